"""Serving the application with uvicorn: in the foreground (``sla-tracker web``) or on a
thread beside the scheduler (``sla-tracker run`` with ``web.enabled``)."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

import uvicorn

from sla_tracker.config import LOOPBACK_ADDRESSES, ConfigError
from sla_tracker.web.app import WebContext, create_app
from sla_tracker.web.queries import Reader
from sla_tracker.web.webhooks import SyncQueue, incremental_sync

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.helpdesk import HelpdeskClient
    from sla_tracker.storage.engine import Engine

log = logging.getLogger("sla_tracker.web")


def compose(
    settings: Settings,
    engine: Engine,
    calendar: BusinessCalendar,
    client: HelpdeskClient | None,
    clock: Callable[[], datetime],
    role: Callable[[], str] = lambda: "web",
) -> WebContext:
    """The application's context; the webhook's sync queue only with a webhook secret."""
    queue = None
    if settings.web.webhook_secret is not None and client is not None:
        sync = incremental_sync(client, engine, settings, calendar, clock,
                                active=lambda: role() != "standby")  # fmt: skip
        queue = SyncQueue(sync, delay=settings.web.webhook_debounce_seconds)
    return WebContext(Reader(engine, settings, calendar), clock, queue, role)


def check_address(settings: Settings, address: str) -> None:
    """The settings' rule again, for an address given on the command line."""
    if address not in LOOPBACK_ADDRESSES and not settings.web.has_credentials:
        raise ConfigError(
            f"refusing to serve on {address}: it is not loopback and no credentials are set; "
            "set $SLA_TRACKER_WEB_TOKEN or web.username with $SLA_TRACKER_WEB_PASSWORD, "
            "or serve on 127.0.0.1"
        )


def _server(context: WebContext, address: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(context), host=address, port=port, log_level="warning",
        access_log=False, server_header=False,
    )  # fmt: skip
    return uvicorn.Server(config)


def serve(context: WebContext, *, address: str, port: int) -> None:
    """Serve until SIGTERM or Ctrl-C (uvicorn's own handlers)."""
    with _queue_running(context):
        _server(context, address, port).run()


@contextlib.contextmanager
def serving_in_background(context: WebContext, *, address: str, port: int) -> Iterator[None]:
    """The board on a thread while the block runs (the service's scheduler loop); uvicorn
    leaves signals to the main thread, the service's."""
    server = _server(context, address, port)
    thread = threading.Thread(target=server.run, name="web", daemon=True)
    with _queue_running(context):
        thread.start()
        log.info("web board on http://%s:%s", address, port)
        try:
            yield
        finally:
            server.should_exit = True
            thread.join(timeout=10)


@contextlib.contextmanager
def _queue_running(context: WebContext) -> Iterator[None]:
    if context.sync_queue is None:
        yield
        return
    context.sync_queue.start()
    try:
        yield
    finally:
        context.sync_queue.stop()

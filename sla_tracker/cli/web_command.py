"""``sla-tracker web``: the board, the JSON API, metrics and the webhook, in the foreground;
the same board beside the service (``run`` with ``web.enabled``) and the demo (``--serve``).
FastAPI and uvicorn are imported only when a board is served."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sla_tracker.cli.base import Runtime
    from sla_tracker.helpdesk import HelpdeskClient
    from sla_tracker.helpdesk.freshdesk.simulator.server import SimulatorState


@click.command("web")
@click.option("--address", help="Address to listen on (default: web.address, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), help="Port (default: web.port, 8080).")
@click.pass_obj
def web_command(runtime: Runtime, address: str | None, port: int | None) -> None:
    """Serve the web board, the JSON API, /metrics and the Freshdesk webhook.

    Read-only except the webhook. A non-loopback address needs a token
    ($SLA_TRACKER_WEB_TOKEN) or basic credentials (web.username, $SLA_TRACKER_WEB_PASSWORD).

    \b
    Example:
        sla-tracker web
        SLA_TRACKER_WEB_TOKEN=... sla-tracker web --address 0.0.0.0 --port 8080
    """
    from sla_tracker.config import current_instant
    from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
    from sla_tracker.web.server import check_address, compose, serve

    settings = runtime.settings
    address = address or settings.web.address
    port = settings.web.port if port is None else port
    check_address(settings, address)
    client = None
    if settings.web.webhook_secret is not None:  # its deliveries trigger syncs
        client = FreshdeskClient.from_settings(settings.freshdesk)
    context = compose(settings, runtime.engine, runtime.calendar(None), client, current_instant)
    hook = "on" if context.sync_queue else "off (no web.webhook_secret)"
    click.echo(f"Web board on http://{address}:{port}/ (webhook {hook}); Ctrl-C stops it")
    serve(context, address=address, port=port)


@contextlib.contextmanager
def board_beside_service(
    runtime: Runtime, client: HelpdeskClient, role: Callable[[], str]
) -> Iterator[None]:
    """While the service runs: its board on a thread when ``web.enabled``, sharing its
    Freshdesk client (one rate limit) and telling /readyz whether it is active."""
    settings = runtime.settings
    if not settings.web.enabled:
        yield
        return
    from sla_tracker.config import current_instant
    from sla_tracker.web.server import check_address, compose, serving_in_background

    check_address(settings, settings.web.address)
    context = compose(settings, runtime.engine, runtime.calendar(None), client,
                      current_instant, role)  # fmt: skip
    with serving_in_background(context, address=settings.web.address, port=settings.web.port):
        yield


@contextlib.contextmanager
def board_for_the_demo(
    runtime: Runtime, client: HelpdeskClient, state: SimulatorState
) -> Iterator[str]:
    """``demo --serve``: the board on a free loopback port, told of every simulated change
    by the simulator's webhook (a fresh secret per run); yields the board's address."""
    import secrets
    import socket

    from pydantic import SecretStr

    from sla_tracker.config import current_instant
    from sla_tracker.helpdesk.freshdesk.simulator.webhooks import WebhookSender
    from sla_tracker.web.server import compose, serving_in_background

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    secret = secrets.token_urlsafe(24)
    web = runtime.settings.web.model_copy(update={"webhook_secret": SecretStr(secret),
                                                  "refresh_seconds": 2})  # fmt: skip
    settings = runtime.settings.model_copy(update={"web": web})
    context = compose(settings, runtime.engine, runtime.calendar(None), client, current_instant)
    url = f"http://127.0.0.1:{port}"
    with serving_in_background(context, address="127.0.0.1", port=port):
        state.webhook = WebhookSender(f"{url}/hooks/freshdesk", secret)
        try:
            yield url
        finally:
            state.webhook.close()
            state.webhook = None

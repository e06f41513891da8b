"""The web application: the board, the JSON API, health and metrics, the Freshdesk webhook.

Built by ``create_app`` from a ``WebContext`` (the store, settings and calendar, the clock,
the webhook's sync queue), so the CLI's ``web``, the service's ``run`` and the tests each
compose it their own way. Everything is read-only except ``POST /hooks/freshdesk``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from sla_tracker import __version__
from sla_tracker.bundled import bundled
from sla_tracker.core.calendar import CalendarError
from sla_tracker.core.instants import format_instant
from sla_tracker.money import ContractError
from sla_tracker.storage.locks import lock_holder
from sla_tracker.storage.web import (
    database_reachable,
    last_successful_sync,
    record_webhook_transition,
)
from sla_tracker.web import api, pages
from sla_tracker.web.metrics import TrackerCollector, metrics_text
from sla_tracker.web.security import SecurityHeaders, access_check
from sla_tracker.web.webhooks import SECRET_HEADER, BadDelivery, parse_delivery, secret_matches

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sla_tracker.web.queries import Reader
    from sla_tracker.web.webhooks import SyncQueue


@dataclass
class WebContext:
    """What the application serves from. ``role`` says whether this process is the active
    service instance, a standby, or a board beside the service (``web``)."""

    reader: Reader
    clock: Callable[[], datetime]
    sync_queue: SyncQueue | None = None
    role: Callable[[], str] = lambda: "web"
    deliveries: Counter[str] = field(default_factory=Counter)


def create_app(context: WebContext) -> FastAPI:
    app = FastAPI(
        title="sla-tracker",
        version=__version__,
        description="Read-only SLA board and JSON API; the CLI's --json outputs.",
        docs_url=None,  # Swagger UI loads scripts from a CDN, which the CSP forbids
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.web = context
    app.add_middleware(SecurityHeaders)
    for refused in (ContractError, CalendarError):  # a bad period or instant asked for
        app.add_exception_handler(refused, _bad_request)
    guarded = [Depends(access_check(context.reader.settings.web))]
    app.include_router(pages.router, dependencies=guarded)
    app.include_router(api.router, prefix="/api", dependencies=guarded)
    app.mount("/static", StaticFiles(directory=bundled("templates") / "web" / "static"))

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        """The process is alive (no database access)."""
        return {"status": "alive"}

    @app.get("/readyz", tags=["operations"])
    def readyz() -> JSONResponse:
        """503 unless the database answers and the last successful sync is recent enough."""
        return _readiness(context)

    @app.get("/metrics", tags=["operations"], dependencies=guarded)
    def metrics() -> Response:
        """Prometheus text format."""
        collector = TrackerCollector(context.reader, context.clock, context.deliveries)
        return Response(metrics_text(collector), media_type="text/plain; version=0.0.4")

    @app.post("/hooks/freshdesk", tags=["webhook"], status_code=202)
    async def freshdesk_hook(
        request: Request,
        secret: Annotated[str | None, Header(alias=SECRET_HEADER)] = None,
    ) -> JSONResponse:
        """A Freshdesk automation rule's webhook: ``{"ticket_id", "status", "updated_at"}``.

        The status is kept at the reported instant and an incremental sync follows
        (coalesced with other deliveries). 401 without the secret header, 403 with a wrong
        one, 400 for a payload that cannot be used; nothing is stored in those cases.
        """
        return await _delivery(context, secret, request)

    return app


async def _bad_request(_request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error)}, status_code=400)


MAX_DELIVERY_BYTES = 64 * 1024  # a Freshdesk payload is a few hundred bytes


async def _delivery(context: WebContext, secret: str | None, request: Request) -> JSONResponse:
    """Check the secret before reading the body: a stranger cannot make the board read
    (or store) anything."""
    expected = context.reader.settings.web.webhook_secret
    outcome, status = "stored", 202
    answer: dict[str, Any]
    if expected is None:
        outcome, status = "disabled", 404
        answer = {"detail": "the webhook is off: set web.webhook_secret"}
    elif secret is None:
        outcome, status = "unauthenticated", 401
        answer = {"detail": f"missing the {SECRET_HEADER} header"}
    elif not secret_matches(secret, expected.get_secret_value()):
        outcome, status = "forbidden", 403
        answer = {"detail": f"wrong {SECRET_HEADER}"}
    else:
        outcome, status, answer = await _store(context, await _bounded_body(request))
    context.deliveries[outcome] += 1
    return JSONResponse(answer, status_code=status)


async def _bounded_body(request: Request) -> bytes | None:
    """The body, or None past ``MAX_DELIVERY_BYTES`` (read no further)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_DELIVERY_BYTES:
            return None
    return body


async def _store(context: WebContext, body: bytes | None) -> tuple[str, int, dict[str, Any]]:
    if body is None:
        return "malformed", 413, {"detail": f"a delivery is at most {MAX_DELIVERY_BYTES} bytes"}
    try:
        payload = json.loads(body)
        delivery = await run_in_threadpool(
            lambda: parse_delivery(payload, context.reader.engine, now=context.clock())
        )
    except (ValueError, RecursionError) as error:  # JSONDecodeError and BadDelivery too
        reason = str(error) if isinstance(error, BadDelivery) else "the body is not JSON"
        return "malformed", 400, {"detail": reason}
    new = await run_in_threadpool(
        record_webhook_transition, context.reader.engine, delivery.ticket_id,
        delivery.status, delivery.updated_at, now=context.clock(),
    )  # fmt: skip
    if context.sync_queue is not None:
        context.sync_queue.request()
    answer = {"ticket_id": delivery.ticket_id, "recorded": new,
              "sync": "queued" if context.sync_queue else "off"}  # fmt: skip
    return ("stored" if new else "duplicate"), 202, answer


def _readiness(context: WebContext) -> JSONResponse:
    reader = context.reader
    body: dict[str, Any] = {"database": database_reachable(reader.engine), "role": context.role()}
    ready = body["database"]
    if ready:
        last = last_successful_sync(reader.engine)
        limit = reader.settings.web.ready_sync_age_minutes * 60
        age = None if last is None else (context.clock() - last["started_at"]).total_seconds()
        body["last_sync"] = None if last is None else format_instant(last["started_at"])
        body["sync_fresh"] = age is not None and age <= limit
        body["active_instance"] = lock_holder(reader.engine)
        ready = body["sync_fresh"]
    body["status"] = "ready" if ready else "unready"
    return JSONResponse(body, status_code=200 if ready else 503)

"""The JSON API: the CLI's ``--json`` outputs, item for item, documented at
``/api/openapi.json``. Read-only: only the webhook changes anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from sla_tracker.core.classification import Severity
from sla_tracker.core.instants import format_instant, parse_instant
from sla_tracker.decisions import decision_trail
from sla_tracker.money import period_window
from sla_tracker.policies import settings_fingerprint
from sla_tracker.present.money import contract_json, exposure_json, indemnity_json
from sla_tracker.present.tickets import explanation_text, ticket_json
from sla_tracker.storage.judgments import Filters
from sla_tracker.web.queries import in_window

if TYPE_CHECKING:
    from datetime import datetime

    from sla_tracker.judge import JudgedTicket
    from sla_tracker.web.app import WebContext

router = APIRouter(tags=["read"])
Id = Annotated[int, Query(gt=0, lt=2**63)]
SeverityName = Annotated[
    str | None, Query(pattern="^(" + "|".join(s.value for s in Severity) + ")$")
]
Instant = Annotated[str | None, Query(description="ISO 8601 with Z or an offset")]


def _context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def _instant(value: str | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        return parse_instant(value)
    except ValueError as error:
        raise HTTPException(400, f"{name}: {error}") from None


def _one(context: WebContext, ticket_id: int, now: datetime) -> JudgedTicket:
    report = context.reader.ticket(ticket_id, now=now)
    if report is None:
        raise HTTPException(404, f"no ticket {ticket_id} known as of {format_instant(now)}")
    return report


@router.get("/tickets")
def tickets(
    request: Request,
    *,
    open: bool = False,
    severity: SeverityName = None,
    company: Id | None = None,
    group: Id | None = None,
    agent: Id | None = None,
    at_risk: bool = False,
    breached: bool = False,
    needs_review: bool = False,
    as_of: Instant = None,
) -> list[dict[str, Any]]:
    """``sla-tracker tickets --json``: tickets with both clocks, most urgent first
    (``group`` and ``agent`` are Freshdesk ids)."""
    context = _context(request)
    now = _instant(as_of, "as_of", context.clock())
    filters = Filters(only_open=open, severity=severity, company_id=company, group_id=group,
                      responder_id=agent, at_risk=at_risk, breached=breached)  # fmt: skip
    found = context.reader.tickets(now=now, filters=filters, needs_review=needs_review,
                                   as_of=as_of is not None)  # fmt: skip
    return [ticket_json(report) for report in found]


@router.get("/board")
def board(
    request: Request,
    severity: SeverityName = None,
    company: Id | None = None,
    group: Id | None = None,
    agent: Id | None = None,
) -> dict[str, Any]:
    """The board: open tickets at risk or breached, most urgent first (the first 100, and
    how many match), each as ``ticket --json`` gives it."""
    context = _context(request)
    only = Filters(severity=severity, company_id=company, group_id=group, responder_id=agent)
    found = context.reader.board(now=context.clock(), only=only)
    return {"total": found.total, "tickets": [ticket_json(report) for report in found.rows]}


@router.get("/tickets/{ticket_id}")
def ticket(request: Request, ticket_id: int, as_of: Instant = None) -> dict[str, Any]:
    """``sla-tracker ticket ID --json``, with the decisions people took (the audit trail)."""
    context = _context(request)
    now = _instant(as_of, "as_of", context.clock())
    report = _one(context, ticket_id, now)
    return ticket_json(report, decision_trail(context.reader.engine, ticket_id, now=now))


@router.get("/tickets/{ticket_id}/explain", response_class=PlainTextResponse)
def explain(request: Request, ticket_id: int, as_of: Instant = None) -> str:
    """``sla-tracker explain ID``: the evidence trace, as text."""
    context = _context(request)
    now = _instant(as_of, "as_of", context.clock())
    reader = context.reader
    return explanation_text(_one(context, ticket_id, now), reader.calendar, now=now,
                            fingerprint=settings_fingerprint(reader.settings))  # fmt: skip


@router.get("/contracts")
def contracts(request: Request) -> list[dict[str, Any]]:
    """``sla-tracker contracts list --json``."""
    context = _context(request)
    return [contract_json(c) for c in context.reader.customers(now=context.clock()).contracts]


@router.get("/indemnities")
def indemnities(
    request: Request, company: Id | None = None, period: str | None = None, as_of: Instant = None
) -> list[dict[str, Any]]:
    """``sla-tracker indemnities --json``: per customer and subscription period."""
    context = _context(request)
    reader = context.reader
    now = _instant(as_of, "as_of", context.clock())
    window = period_window(period, reader.calendar) if period else None
    return [
        indemnity_json(line)
        for line in reader.customers(now=now).periods
        if (company is None or line.company_id == company) and in_window(line, window)
    ]


@router.get("/exposure")
def exposure(request: Request, until: Instant = None) -> list[dict[str, Any]]:
    """``sla-tracker exposure --json``: money at risk until ``until`` (default: in 7 days)."""
    context = _context(request)
    now = context.clock()
    horizon = _instant(until, "until", now) if until else None
    return [exposure_json(i) for i in context.reader.customers(now=now, until=horizon).exposure]

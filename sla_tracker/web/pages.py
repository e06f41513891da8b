"""The board's pages: server-rendered with the project's one template environment
(``templates/web/``), instants in the calendar's zone through ``present/when.py``.

The countdowns tick in the browser from each clock's deadline (``static/board.js``); the
server's instant travels with the page, so a replayed ``now`` counts down the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from sla_tracker.core.classification import Severity
from sla_tracker.core.clocks import ClockState
from sla_tracker.core.instants import format_instant
from sla_tracker.decisions import decision_trail
from sla_tracker.money import period_window
from sla_tracker.policies import indemnity_options, settings_fingerprint
from sla_tracker.present.emails import render_weekly_report
from sla_tracker.present.money import (
    PdfUnavailableError,
    contract_json,
    exposure_json,
    indemnity_json,
    render_statement,
    render_statement_pdf,
)
from sla_tracker.present.templates import render_page
from sla_tracker.present.tickets import explanation_text, provenance
from sla_tracker.present.when import local_instant
from sla_tracker.reports.weekly import build_weekly_report
from sla_tracker.storage.judgments import Filters
from sla_tracker.storage.web import (
    directory,
    report_runs,
    status_ids_by_name,
)
from sla_tracker.web.queries import in_window

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from sla_tracker.core.clocks import Clock
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.web.app import WebContext

# An e-mail's HTML styles itself inline and runs nothing: shown as it is, without scripts.
DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)
LANG = "en"  # the board speaks the CLI's language; documents keep report.language
router = APIRouter(include_in_schema=False)


def _context(request: Request) -> WebContext:
    context: WebContext = request.app.state.web
    return context


def _page(name: str, context: WebContext, **values: Any) -> HTMLResponse:
    calendar = context.reader.calendar
    values = {"zone": calendar.zone, "timezone": calendar.timezone, **values}
    return HTMLResponse(render_page(f"web/{name}", values, LANG))


def clock_view(clock: Clock, *, now: datetime) -> dict[str, Any]:
    """One clock as a cell shows it; the template formats only what the cell shows (the
    ``instant`` and ``duration`` filters of the template environment)."""
    counting = clock.state is ClockState.RUNNING and clock.deadline is not None
    return {
        "name": clock.name,
        "state": str(clock.state),
        "applies": clock.state is not ClockState.NOT_APPLICABLE,
        "reason": clock.reason,
        "counting": counting,
        "deadline": clock.deadline,
        "deadline_ms": int(clock.deadline.timestamp() * 1000) if clock.deadline else None,
        "breached_at": clock.breached_at,
        "stopped_at": clock.stopped_at,
        "left": clock.remaining_seconds,
        "wall_left": (clock.deadline - now).total_seconds()
        if counting and clock.deadline and clock.deadline > now else None,
        "target": clock.target_seconds,
        "elapsed": clock.elapsed_seconds,
        "contractual": clock.contractual,
    }  # fmt: skip


def _rows(context: WebContext, only: Filters, now: datetime) -> dict[str, Any]:
    reader = context.reader
    board = reader.board(now=now, only=only)
    companies, groups, agents = directory(reader.engine)
    zone = reader.calendar.zone
    return {
        "now_ms": int(now.timestamp() * 1000),
        "now_local": local_instant(now, zone, LANG),
        "rows": [
            {
                "id": report.id,
                "subject": report.subject or "",
                "company": report.company_name or report.company_id or "",
                "severity": report.classification.severity.value,
                "group": groups.get(report.group_id, report.group_id) if report.group_id else "",
                "agent": agents.get(report.responder_id, report.responder_id)
                if report.responder_id
                else "",
                "review": report.needs_review,
                "clocks": [
                    clock_view(clock, now=now) for clock in (report.response, report.restoration)
                ],
            }
            for report in board.rows
        ],
        "total": board.total,
        "companies": sorted(companies.items(), key=lambda item: item[1]),
        "groups": sorted(groups.items(), key=lambda item: item[1]),
        "agents": sorted(agents.items(), key=lambda item: item[1]),
    }


OptionalId = Annotated[int | None, Query(gt=0, lt=2**63)]


def _filter(severity: str | None, company: int | None, group: int | None, agent: int | None
            ) -> Filters:  # fmt: skip
    if severity is not None and severity not in {s.value for s in Severity}:
        raise HTTPException(400, f"severity {severity!r} is not one of the severities")
    return Filters(severity=severity, company_id=company, group_id=group, responder_id=agent)


@router.get("/", response_class=HTMLResponse)
def board_page(
    request: Request,
    severity: str | None = None,
    company: OptionalId = None,
    group: OptionalId = None,
    agent: OptionalId = None,
) -> HTMLResponse:
    """Open tickets at risk or breached, most urgent first, with live countdowns."""
    context = _context(request)
    only = _filter(severity or None, company, group, agent)
    return _page(
        "board", context, **_rows(context, only, context.clock()), only=only,
        severities=[s.value for s in Severity],
        refresh_seconds=context.reader.settings.web.refresh_seconds,
        query=request.url.query,
    )  # fmt: skip


@router.get("/board/rows", response_class=HTMLResponse)
def board_rows(
    request: Request,
    severity: str | None = None,
    company: OptionalId = None,
    group: OptionalId = None,
    agent: OptionalId = None,
) -> HTMLResponse:
    """The board's table body alone, for its auto-refresh."""
    context = _context(request)
    only = _filter(severity or None, company, group, agent)
    return _page("board-rows", context, **_rows(context, only, context.clock()))


def freshdesk_link(context: WebContext, ticket_id: int) -> str | None:
    freshdesk = context.reader.settings.freshdesk
    if freshdesk.domain:
        return f"https://{freshdesk.domain}.freshdesk.com/a/tickets/{ticket_id}"
    if freshdesk.base_url:
        return f"{freshdesk.base_url.rstrip('/')}/a/tickets/{ticket_id}"
    return None


def _one(context: WebContext, ticket_id: int, now: datetime) -> JudgedTicket:
    report = context.reader.ticket(ticket_id, now=now)
    if report is None:
        raise HTTPException(404, f"no ticket {ticket_id} known as of {format_instant(now)}")
    return report


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, ticket_id: int) -> HTMLResponse:
    """Classification with provenance and decisions, timeline, clocks, evidence trace."""
    context = _context(request)
    now = context.clock()
    report = _one(context, ticket_id, now)
    reader = context.reader
    zone = reader.calendar.zone
    classification = report.classification
    labels = {number: name for name, number in status_ids_by_name(reader.engine).items()}

    def named(status: int | None) -> str | None:
        return None if status is None else f"{labels.get(status, status)} ({status})"

    return _page(
        "ticket", context, report=report, now_local=local_instant(now, zone, LANG),
        now_ms=int(now.timestamp() * 1000),
        provenance=provenance(report),
        decisions=[
            {"name": name, "value": getattr(classification, name).value,
             "source": getattr(classification, name).source, "by": getattr(classification, name).by,
             "reason": getattr(classification, name).reason}
            for name in ("severity", "gtr_object", "external_link", "non_standard_fields")
        ],
        history=[{"at": local_instant(d.at, zone, LANG, year=True), "by": d.by,
                  "what": f"{d.kind}: {d.dimension} = {d.value}" if d.dimension else d.kind,
                  "why": d.reason + (f" ({d.note})" if d.note else ""),
                  "superseded": d.superseded}
                 for d in decision_trail(reader.engine, ticket_id, now=now)],
        timeline=[{"at": local_instant(t.at, zone, LANG, year=True),
                   "from": named(t.from_status), "to": named(t.to_status), "kind": t.kind,
                   "evidence": t.evidence,
                   "seen": local_instant(t.observed_at, zone, LANG) if t.observed_at else ""}
                  for t in report.transitions],
        clocks=[clock_view(clock, now=now)
                for clock in (report.response, report.restoration)],
        evidence=explanation_text(report, reader.calendar, now=now,
                                  fingerprint=settings_fingerprint(reader.settings)),
        freshdesk=freshdesk_link(context, ticket_id),
        created=local_instant(report.created_at, zone, LANG, year=True),
    )  # fmt: skip


@router.get("/customers", response_class=HTMLResponse)
def customers_page(request: Request) -> HTMLResponse:
    """Contracts and fee versions, indemnities per period, exposure, statements."""
    context = _context(request)
    now = context.clock()
    found = context.reader.customers(now=now)
    return _page(
        "customers", context, contracts=[contract_json(c) for c in found.contracts],
        periods=[indemnity_json(line) for line in found.periods],
        exposure=[exposure_json(item) for item in found.exposure],
        horizon=local_instant(found.horizon, context.reader.calendar.zone, LANG, year=True),
        year=now.astimezone(context.reader.calendar.zone).year,
    )  # fmt: skip


@router.get("/customers/{company_id}/statement")
def statement(
    request: Request, company_id: int, period: str,
    lang: Annotated[str | None, Query(pattern="^(fr|en)$")] = None,
    format: Annotated[str, Query(pattern="^(html|pdf)$")] = "html",
) -> Response:  # fmt: skip
    """The customer statement of ``sla-tracker statement``, as an HTML or PDF download
    (PDF with the optional WeasyPrint extra; 501 without it, saying how to install it)."""
    context = _context(request)
    reader = context.reader
    now = context.clock()
    window = period_window(period, reader.calendar)
    lines = [line for line in reader.customers(now=now).periods
             if line.company_id == company_id and line.amount is not None
             and in_window(line, window)]  # fmt: skip
    render = render_statement_pdf if format == "pdf" else render_statement
    try:
        document = render(
            lines, company_id=company_id, period_text=period,
            language=lang or reader.settings.report.language, calendar=reader.calendar,
            basis=indemnity_options(reader.settings)[0], now=now, issuer=reader.settings.issuer,
        )  # fmt: skip
    except PdfUnavailableError as error:
        raise HTTPException(501, str(error)) from None
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    name = f"statement-{company_id}-{period}.{format}"
    return Response(document, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request) -> HTMLResponse:
    """The weekly reports recorded (sent or pending), and this week's on demand."""
    context = _context(request)
    zone = context.reader.calendar.zone
    runs = [
        {**run, "recorded": local_instant(run["recorded_at"], zone, LANG, year=True),
         "sent": local_instant(run["sent_at"], zone, LANG, year=True) if run["sent_at"] else None}
        for run in report_runs(context.reader.engine, limit=104)
    ]  # fmt: skip
    return _page("reports", context, runs=runs, current=current_week(context.clock(), zone))


def current_week(now: datetime, zone: tzinfo) -> str:
    year, week, _ = now.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


@router.get("/reports/current", response_class=HTMLResponse)
def current_report(request: Request, lang: Annotated[str | None, Query(
        pattern="^(fr|en)$")] = None) -> HTMLResponse:  # fmt: skip
    """This week's report so far, built now (the e-mail's HTML part)."""
    context = _context(request)
    reader = context.reader
    now = context.clock()
    built = build_weekly_report(reader.engine, reader.settings, reader.calendar,
                                week=current_week(now, reader.calendar.zone), now=now)  # fmt: skip
    language = lang or reader.settings.report.language
    rendered = render_weekly_report(built, language=language, calendar=reader.calendar)
    return HTMLResponse(rendered.html, headers={"Content-Security-Policy": DOCUMENT_POLICY})

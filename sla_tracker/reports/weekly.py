"""The weekly SLA report: gather (``storage/reports.py``) → render (``present/emails.py``) → send.

``build_weekly_report`` returns plain data, which ``present.emails.render_weekly_report``
turns into the subject / text / HTML triple; ``send_weekly_report`` records the message the
caller rendered before sending it, so it is delivered at least once and never as two reports.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from email import message_from_string
from email.policy import default
from typing import TYPE_CHECKING, Any, NamedTuple

from sla_tracker.core.clocks import ClockState
from sla_tracker.delivery.intents import deliver
from sla_tracker.delivery.smtp import make_message, new_message_id, send
from sla_tracker.judge import evaluate_tickets
from sla_tracker.judgments import Judgments, listing_threshold
from sla_tracker.money import customer_periods, exposure
from sla_tracker.storage.deliveries import WEEKLY_REPORTS
from sla_tracker.storage.judgments import Filters
from sla_tracker.storage.reports import (
    latest_report_run,
    record_report_run,
    relevant_ticket_ids,
    team_names,
)
from sla_tracker.storage.runs import sync_runs_between
from sla_tracker.storage.sync_state import quarantined_records

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sla_tracker.config import Settings, SmtpSettings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.money import CustomerPeriod, Exposure
    from sla_tracker.present.templates import RenderedEmail
    from sla_tracker.storage.engine import Engine

SEVERITIES = ("blocking", "major", "minor", "not_anomaly", "unclassified")
TREND_WEEKS = 8
STOPPED = (ClockState.MET, ClockState.BREACHED_CLOSED)


class ReportError(Exception):
    """A report that cannot be built or sent as asked."""


@dataclass(frozen=True)
class Compliance:
    label: str
    met: int
    judged: int  # the denominator: clocks met or breached
    median_hours: float | None
    p90_hours: float | None

    @property
    def percent(self) -> float | None:
        return None if not self.judged else round(100 * self.met / self.judged, 1)


@dataclass(frozen=True)
class TrendWeek:
    """One week of the trend: the compliance of the tickets created in it."""

    week: str
    start: datetime
    blocking: Compliance  # response, blocking tickets
    major: Compliance  # response, major tickets
    restoration: Compliance  # the GTR


@dataclass(frozen=True)
class Team:
    """A help-desk group's or agent's week: its tickets, their response clocks, breaches."""

    id: int | None  # None: no group or agent assigned
    name: str | None  # None until the sync has read the help desk's directory
    received: int
    response: Compliance
    breaches: int


@dataclass
class WeeklyReport:
    week: str
    start: datetime
    end: datetime
    as_of: datetime
    received: dict[str, int]
    response: list[Compliance]
    restoration: Compliance
    trend: list[TrendWeek]  # the last TREND_WEEKS weeks, oldest first, this one last
    breaches: list[dict[str, Any]]  # most urgent first: still unrestored, then oldest
    at_risk: list[dict[str, Any]]  # least time left first
    indemnities: list[dict[str, Any]]
    exposure: list[dict[str, Any]]  # the coming week's, each with its company's name
    groups: list[Team]
    agents: list[Team]
    disagreements: list[dict[str, Any]]
    needs_review: list[dict[str, Any]]
    sync: dict[str, Any]

    @property
    def complete(self) -> bool:
        """Whether the week was over when the report was built (else its figures will move)."""
        return self.as_of >= self.end


def week_bounds(week: str, calendar: BusinessCalendar) -> tuple[datetime, datetime]:
    """``2026-W48`` → Monday 00:00 to the next Monday 00:00, local time."""
    try:
        year, number = week.upper().split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise ReportError(f"week {week!r} is not an ISO week such as 2026-W48") from None
    start = datetime(monday.year, monday.month, monday.day, tzinfo=calendar.zone)
    following = monday + timedelta(days=7)
    return start, datetime(following.year, following.month, following.day, tzinfo=calendar.zone)


def previous_week(now: datetime, calendar: BusinessCalendar) -> str:
    """The last complete week: what a Monday-morning report is about."""
    year, number, _ = (now.astimezone(calendar.zone).date() - timedelta(days=7)).isocalendar()
    return f"{year}-W{number:02d}"


def build_weekly_report(
    engine: Engine, settings: Settings, calendar: BusinessCalendar, *, week: str, now: datetime
) -> WeeklyReport:
    start, end = week_bounds(week, calendar)
    trend_start = start - timedelta(weeks=TREND_WEEKS - 1)
    # Everything known now, about the week: clocks of its tickets as they stand, breaches
    # that happened in it, money that accrued in it (and since 1 January); and the clocks
    # of the tickets created in the weeks before, for the trend.
    as_of = now
    kept = Judgments(engine, settings, calendar, as_of)
    gtr_breached = [report.id for report in kept.tickets(Filters(gtr_breached=True))]
    relevant = relevant_ticket_ids(
        engine,
        start=start,
        end=end,
        restored_statuses=settings.restoration.restored_statuses,
        gtr_breached=gtr_breached,
    )
    reports = evaluate_tickets(engine, settings, calendar, now=as_of, ticket_ids=relevant)
    # The trend's eight weeks of tickets need only their clocks: the kept judgments have them.
    trend_tickets = kept.tickets(Filters(created_from=trend_start, created_before=end))
    this_week = [r for r in reports if start <= r.created_at < end]
    threshold = listing_threshold(settings)
    january = datetime(start.year, 1, 1, tzinfo=calendar.zone)
    in_week = customer_periods(engine, settings, calendar, reports, now=as_of, window=(start, end))
    in_year = customer_periods(
        engine, settings, calendar, reports, now=as_of, window=(january, end)
    )
    breaches = _breaches(reports, start, end)
    groups, agents = team_names(engine)
    return WeeklyReport(
        week=week,
        start=start,
        end=end,
        as_of=as_of,
        received={s: sum(1 for r in this_week if _severity(r) == s) for s in SEVERITIES},
        response=[_response(this_week, s) for s in ("blocking", "major")],
        restoration=_compliance("GTR", [r.restoration for r in this_week]),
        trend=_trend(trend_tickets, trend_start, calendar),
        breaches=breaches,
        at_risk=_at_risk(reports, threshold),
        indemnities=_indemnities(in_week, in_year),
        exposure=_exposure(
            exposure(
                engine, settings, calendar, reports, now=as_of, until=as_of + timedelta(days=7)
            ),
            {r.id: r.company_name for r in reports},
        ),
        groups=_teams(this_week, breaches, lambda r: r.group_id, groups),
        agents=_teams(this_week, breaches, lambda r: r.responder_id, agents),
        disagreements=[
            {
                "id": r.id,
                "subject": r.subject,
                "freshdesk": r.fr_due_by,
                "contract": r.response.deadline,
            }
            for r in reports
            if r.disagreements and start <= r.created_at < end
        ],
        needs_review=[
            {"id": r.id, "subject": r.subject, "gaps": _gaps(r)} for r in reports if r.needs_review
        ],
        sync=_sync_health(engine, start, end),
    )


def _severity(report: JudgedTicket) -> str:
    return str(report.classification.severity.value)


def _response(reports: list[JudgedTicket], severity: str) -> Compliance:
    """The response compliance of the tickets of one severity."""
    return _compliance(severity, [r.response for r in reports if _severity(r) == severity])


def _trend(
    reports: Iterable[JudgedTicket], first: datetime, calendar: BusinessCalendar
) -> list[TrendWeek]:
    """Eight weeks of compliance in one pass over their tickets, keeping of each clock only
    what the compliance needs (a million-ticket account has 300,000 tickets in eight weeks)."""
    labels, bounds = [], []
    for offset in range(TREND_WEEKS):
        start = (first + timedelta(weeks=offset)).astimezone(calendar.zone)
        year, number, _ = start.date().isocalendar()
        labels.append(f"{year}-W{number:02d}")
        bounds.append(week_bounds(labels[-1], calendar))
    series: list[dict[str, list[_Counted]]] = [
        {"blocking": [], "major": [], "GTR": []} for _ in labels
    ]
    starts = [start for start, _end in bounds]
    for report in reports:
        index = bisect_right(starts, report.created_at) - 1
        if index < 0 or report.created_at >= bounds[index][1]:
            continue
        severity = _severity(report)
        if severity in ("blocking", "major"):
            series[index][severity].append(_counted(report.response))
        series[index]["GTR"].append(_counted(report.restoration))
    return [
        TrendWeek(
            label,
            start,
            blocking=_compliance("blocking", week["blocking"]),
            major=_compliance("major", week["major"]),
            restoration=_compliance("GTR", week["GTR"]),
        )
        for label, (start, _end), week in zip(labels, bounds, series, strict=True)
    ]


class _Counted(NamedTuple):
    """What ``_compliance`` reads of a clock."""

    contractual: bool
    state: ClockState
    elapsed_seconds: int


def _counted(clock: Any) -> _Counted:
    return _Counted(clock.contractual, clock.state, clock.elapsed_seconds)


def _teams(
    reports: list[JudgedTicket],
    breaches: list[dict[str, Any]],
    team_of: Callable[[JudgedTicket], int | None],
    names: dict[int, str],
) -> list[Team]:
    """The week's tickets by group or agent (``team_of``), busiest first."""
    members: dict[int | None, list[JudgedTicket]] = {}
    for report in reports:
        members.setdefault(team_of(report), []).append(report)
    breached = [b["id"] for b in breaches]
    found = [
        Team(
            key,
            names.get(key) if key is not None else None,
            len(tickets),
            _compliance("response", [t.response for t in tickets]),
            sum(breached.count(t.id) for t in tickets),
        )
        for key, tickets in members.items()
    ]
    return sorted(found, key=lambda team: (-team.received, team.name or "", team.id or 0))


def _exposure(items: list[Exposure], companies: dict[int, str | None]) -> list[dict[str, Any]]:
    return [{**asdict(item), "company": companies.get(item.ticket_id)} for item in items]


def _gaps(report: JudgedTicket) -> list[datetime]:
    """When the status changed and changed back unseen: why a ticket needs review."""
    history = report.history
    return [change.at for change in history.changes if change.kind == "gap"] if history else []


def _compliance(label: str, clocks: list[Any]) -> Compliance:
    judged = [c for c in clocks if c.contractual and c.state in (*STOPPED, ClockState.BREACHED)]
    met = sum(1 for c in judged if c.state is ClockState.MET)
    hours = sorted(c.elapsed_seconds / 3600 for c in judged if c.state in STOPPED)
    return Compliance(label, met, len(judged), _percentile(hours, 50), _percentile(hours, 90))


def _percentile(values: list[float], percent: int) -> float | None:
    """Nearest-rank percentile: a value that occurred, never an interpolation."""
    if not values:
        return None
    rank = max(1, -(-percent * len(values) // 100))
    return round(values[rank - 1], 2)


def _breaches(reports: list[JudgedTicket], start: datetime, end: datetime) -> list[dict[str, Any]]:
    found = []
    for report in reports:
        for clock in (report.response, report.restoration):
            if clock.contractual and clock.breached_at and start <= clock.breached_at < end:
                found.append(
                    {
                        "id": report.id,
                        "subject": report.subject,
                        "clock": clock.name,
                        "at": clock.breached_at,
                        "company": report.company_name,
                        "severity": _severity(report),
                        "running": clock.stopped_at is None,
                    }
                )
    return sorted(found, key=lambda item: (not item["running"], item["at"], item["id"]))


def _at_risk(reports: list[JudgedTicket], threshold: float) -> list[dict[str, Any]]:
    found = []
    for report in reports:
        for clock in (report.response, report.restoration):
            if clock.at_risk(threshold):
                found.append(
                    {
                        "id": report.id,
                        "subject": report.subject,
                        "clock": clock.name,
                        "remaining_hours": round((clock.remaining_seconds or 0) / 3600, 1),
                        "remaining_seconds": clock.remaining_seconds or 0,
                        "deadline": clock.deadline,
                        "company": report.company_name,
                        "severity": _severity(report),
                    }
                )
    return sorted(found, key=lambda item: (item["remaining_seconds"], item["id"]))


def _indemnities(week: list[CustomerPeriod], year: list[CustomerPeriod]) -> list[dict[str, Any]]:
    def totals(lines: list[CustomerPeriod]) -> dict[tuple[Any, ...], Decimal]:
        summed: dict[tuple[Any, ...], Decimal] = {}
        for line in lines:
            key = (line.company_id, line.company_name, line.amount.currency if line.amount else "")
            summed[key] = summed.get(key, Decimal(0)) + (line.shown_amount or Decimal(0))
        return summed

    in_week, in_year = totals(week), totals(year)
    statuses: dict[Any, str] = {}
    for line in year:  # no contract, else provisional if any period is, else final
        if statuses.get(line.company_id) not in ("no contract", "provisional"):
            statuses[line.company_id] = line.status
    return [
        {
            "company_id": company_id,
            "company": name or company_id,
            "currency": currency,
            "week": in_week.get((company_id, name, currency), Decimal(0)),
            "year_to_date": amount,
            "status": statuses.get(company_id, ""),
        }
        for (company_id, name, currency), amount in sorted(in_year.items(), key=lambda i: -i[1])
    ]


def _sync_health(engine: Engine, start: datetime, end: datetime) -> dict[str, Any]:
    rows = sync_runs_between(engine, start, end)
    failed = [row for row in rows if row.outcome != "ok"]
    return {
        "runs": len(rows),
        "failed": len(failed),
        "last_at": rows[-1].started_at if rows else None,
        "last_outcome": rows[-1].outcome if rows else None,
        "last_error": failed[-1].errors if failed else None,
        "quarantined": quarantined_records(engine)[0],
    }


@dataclass(frozen=True)
class ReportDelivery:
    week: str
    message_id: str
    resent: bool  # a recorded message the server had not confirmed, sent again as it was


def send_weekly_report(
    engine: Engine,
    settings: Settings,
    render: Callable[[], RenderedEmail],
    *,
    week: str,
    now: datetime,
    force: bool,
) -> ReportDelivery:
    """Send the week's report at least once, and never as two different messages.

    The message is recorded whole, with its Message-ID, before the first try and marked sent
    once the server accepted it. A report recorded but not confirmed (a crash or an outage
    mid-send) is sent again exactly as recorded; a confirmed one only with ``force``, as a
    new copy. ``render`` is called only when a new message is needed.
    """
    if not settings.smtp.recipients:
        raise ReportError("no recipients: set smtp.recipients in the configuration")
    smtp = settings.smtp
    run = latest_report_run(engine, week)
    if run and run["sent_at"] and not force:
        raise ReportError(
            f"the report of {week} was already sent ({run['message_id']}); --force sends it again"
        )
    resent = run is not None and not force
    if run is None or force:
        copy_number = run["copy_number"] + 1 if run else 0
        run = _record_report(engine, smtp, render(), week=week, copy_number=copy_number, now=now)
    recorded = message_from_string(run["message"], policy=default)
    deliver(engine, WEEKLY_REPORTS, run["id"], new_key=lambda: str(recorded["Message-ID"]),
            send=lambda _: send(recorded, smtp), now=now)  # fmt: skip
    return ReportDelivery(week, run["message_id"], resent)


def _record_report(
    engine: Engine,
    smtp: SmtpSettings,
    rendered: RenderedEmail,
    *,
    week: str,
    copy_number: int,
    now: datetime,
) -> dict[str, Any]:
    """The intent: the whole message and its Message-ID, written before any byte is sent."""
    message_id = new_message_id(smtp.sender)
    message = make_message(
        rendered, sender=smtp.sender, recipients=smtp.recipients, message_id=message_id
    )
    run: dict[str, Any] = {
        "week": week,
        "copy_number": copy_number,
        "recipients": list(smtp.recipients),
        "message_id": message_id,
        "message": message.as_string(),
        "recorded_at": now,
        "attempts": 0,
    }
    run["id"] = record_report_run(engine, run)
    if run["id"] is None:
        raise ReportError(
            f"another process recorded the report of {week} at the same time; run again to send it"
        )
    return run

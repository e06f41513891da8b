"""How tickets and their clocks are shown: stable JSON, CSV, terminal tables, evidence traces."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from sla_tracker.core.clocks import Clock, ClockState, explain
from sla_tracker.core.instants import format_instant
from sla_tracker.present.output import csv_text

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.judge import JudgedTicket

STATE_STYLE = {
    ClockState.RUNNING: "green",
    ClockState.PAUSED: "blue",
    ClockState.MET: "dim green",
    ClockState.BREACHED: "bold red",
    ClockState.BREACHED_CLOSED: "red",
    ClockState.NOT_APPLICABLE: "dim",
}
CSV_COLUMNS = (
    "id", "subject", "company_id", "severity", "severity_source", "gtr_object", "gtr_eligible",
    "response_state", "response_remaining_seconds", "response_deadline", "response_breached_at",
    "restoration_state", "restoration_remaining_seconds", "restoration_deadline",
    "restoration_breached_at", "needs_review",
)  # fmt: skip


def _instant(value: datetime | None) -> str | None:
    return None if value is None else format_instant(value)


def clock_json(clock: Clock) -> dict[str, Any]:
    return {
        "state": str(clock.state),
        "target_seconds": clock.target_seconds,
        "elapsed_seconds": clock.elapsed_seconds,
        "remaining_seconds": clock.remaining_seconds,
        "deadline": _instant(clock.deadline),
        "breached_at": _instant(clock.breached_at),
        "stopped_at": _instant(clock.stopped_at),
        "margin_seconds": clock.margin_seconds,
    }


def provenance(report: JudgedTicket) -> str:
    decision = report.classification.severity
    return decision.source if decision.by is None else f"{decision.source}:{decision.by}"


def ticket_json(report: JudgedTicket) -> dict[str, Any]:
    """The stable JSON of ``sla-tracker ticket --json`` (and each item of ``tickets --json``)."""
    classification = report.classification
    return {
        "id": report.id,
        "subject": report.subject,
        "company_id": report.company_id,
        "severity": str(classification.severity.value),
        "severity_source": provenance(report),
        "gtr_object": str(classification.gtr_object.value),
        "gtr_eligible": not report.gtr_reasons,
        "gtr_reasons": report.gtr_reasons,
        "accepted_channel": report.accepted_channel,
        "clocks": {
            "response": clock_json(report.response),
            "restoration": clock_json(report.restoration),
        },
        "needs_review": report.needs_review,
        "freshdesk": {
            "fr_due_by": _instant(report.fr_due_by),
            "due_by": _instant(report.due_by),
        },
    }


def tickets_csv(reports: Iterable[JudgedTicket]) -> str:
    return csv_text(CSV_COLUMNS, (_csv_row(ticket_json(report)) for report in reports))


def _csv_row(data: dict[str, Any]) -> list[Any]:
    row = [data[key] for key in CSV_COLUMNS[:7]]
    for name in ("response", "restoration"):
        clock = data["clocks"][name]
        row += [clock["state"], clock["remaining_seconds"], clock["deadline"], clock["breached_at"]]
    return [*row, " | ".join(data["needs_review"])]


def urgency(report: JudgedTicket) -> tuple[int, float]:
    """Sort key: breached first (earliest breach first), then least time left, then the rest."""
    clocks = [clock for clock in (report.response, report.restoration) if clock.contractual]
    breaches = [
        c.breached_at.timestamp()
        for c in clocks
        if c.state is ClockState.BREACHED and c.breached_at
    ]
    if breaches:
        return (0, min(breaches))
    left = [
        float(c.remaining_seconds)
        for c in clocks
        if c.state in (ClockState.RUNNING, ClockState.PAUSED) and c.remaining_seconds is not None
    ]
    return (1, min(left)) if left else (2, math.inf)


def duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d}"


def _clock_cell(clock: Clock) -> Text:
    if clock.state is ClockState.NOT_APPLICABLE:
        return Text("—", style="dim")
    detail = {
        ClockState.RUNNING: f" {duration(clock.remaining_seconds)} left",
        ClockState.PAUSED: f" {duration(clock.remaining_seconds)} left",
        ClockState.BREACHED: f" since {format_instant(clock.breached_at)}"
        if clock.breached_at
        else "",
    }.get(clock.state, "")
    return Text(f"{clock.state}{detail}", style=STATE_STYLE[clock.state])


def tickets_table(reports: list[JudgedTicket], *, title: str) -> Table:
    table = Table(title=title)
    for column in ("id", "company", "severity", "GTR", "response", "restoration", "subject"):
        table.add_column(column, overflow="fold" if column == "subject" else "ellipsis")
    for report in reports:
        flag = " ⚠" if report.needs_review else ""
        table.add_row(
            f"{report.id}{flag}",
            (report.company_name or str(report.company_id or ""))[:28],
            str(report.classification.severity.value),
            "yes" if not report.gtr_reasons else "",
            _clock_cell(report.response),
            _clock_cell(report.restoration),
            (report.subject or "")[:60],
        )
    return table


def ticket_text(report: JudgedTicket, calendar: BusinessCalendar) -> str:
    """The timeline and the clocks of one ticket, for a person."""
    classification = report.classification
    zone = calendar.zone
    lines = [
        f"Ticket {report.id}: {report.subject}",
        f"  company: {report.company_name or report.company_id}",
        f"  created: {format_instant(report.created_at)} "
        f"({report.created_at.astimezone(zone):%a %d %b %Y %H:%M} {calendar.timezone})",
        "  channel: "
        + ("accepted" if report.accepted_channel else "not accepted (C2): no SLA obligation"),
    ]
    for name in ("severity", "gtr_object", "external_link", "non_standard_fields"):
        decision = getattr(classification, name)
        origin = {
            "rule": f"rule {decision.by}",
            "person": f"{decision.by} at {_instant(decision.at)}: {decision.reason}",
            "default": "no rule matched",
        }[decision.source]
        lines.append(f"  {name}: {decision.value} ({origin})")
    lines.append(
        "  GTR: " + ("eligible" if not report.gtr_reasons else "; ".join(report.gtr_reasons))
    )
    lines.append("Timeline:")
    for change in report.transitions:
        before = "—" if change.from_status is None else change.from_status
        lines.append(
            f"  {format_instant(change.at)}  {before} → {change.to_status}  "
            f"[{change.kind}: {change.evidence}; seen {_instant(change.observed_at)}]"
        )
    lines.append("Clocks:")
    freshdesk = {
        "response": f"Freshdesk fr_due_by {_instant(report.fr_due_by)}",
        "restoration": f"Freshdesk due_by {_instant(report.due_by)} "
        "(its resolution target, not the GTR)",
    }
    for clock in (report.response, report.restoration):
        lines.append(
            f"  {clock.name}: {clock.state}" + (f" — {clock.reason}" if clock.reason else "")
        )
        if clock.state is not ClockState.NOT_APPLICABLE:
            contractual = "" if clock.contractual else " (internal target, not contractual)"
            lines.append(
                f"    target {duration(clock.target_seconds)}{contractual}, elapsed "
                f"{duration(clock.elapsed_seconds)}, remaining {duration(clock.remaining_seconds)}"
            )
            lines.append(f"    deadline {_instant(clock.deadline)}{_outcome(clock)}")
            if clock.breached_at:
                lines.append(f"    breached at {format_instant(clock.breached_at)}")
        lines.append(f"    {freshdesk[clock.name]}")
        if clock.name == "response":
            lines += [f"    ≠ {finding}" for finding in report.disagreements]
    lines += [f"Needs review: {reason}" for reason in report.needs_review]
    return "\n".join(lines)


RULES = {  # where each clock's rules are written, for a reader who wants the why
    "response": "docs/contract-rules.md#c4--response-to-a-blocking-anomaly-2-business-hours",
    "restoration": "docs/contract-rules.md#c8--restoration-guarantee-gtr",
}


def _outcome(clock: Clock) -> str:
    """What stopped the clock, beside its deadline: the instant, and the margin when met."""
    if clock.stopped_at is None:
        return ""
    event = "answered" if clock.name == "response" else "restored"
    margin = f", {duration(clock.margin_seconds)} to spare" if clock.state is ClockState.MET else ""
    return f"; {event} {format_instant(clock.stopped_at)}{margin}"


def explanation_text(
    report: JudgedTicket, calendar: BusinessCalendar, *, now: datetime, fingerprint: str
) -> str:
    """The evidence trace: every interval counted or not and why, and what it rests on."""
    if report.seen is None:
        raise ValueError("the evidence trace needs a ticket judged with its detail")
    lines = [
        f"Evidence for ticket {report.id} as of {format_instant(now)}",
        f"Calendar {calendar.name} ({calendar.timezone}); settings fingerprint {fingerprint}",
        f"Snapshot: first seen {format_instant(report.seen.first_seen_at)}, last polled "
        f"{format_instant(report.seen.last_seen_at)}; {len(report.transitions)} status "
        "transition(s) used:",
    ]
    for change in report.transitions:
        lines.append(
            f"  {format_instant(change.at)} {change.from_status}→{change.to_status} "
            f"{change.kind} ({change.evidence}), observed {_instant(change.observed_at)}"
        )
    for clock in (report.response, report.restoration):
        lines.append(
            f"{clock.name} clock: {clock.state}"
            + (f" — {clock.reason}" if clock.reason else "")
            + f"  [rules: {RULES[clock.name]}]"
        )
        total = 0
        for segment in explain(clock, calendar, now=now):
            total += segment.business_seconds if segment.counted else 0
            local_start = segment.start.astimezone(calendar.zone)
            local_end = segment.end.astimezone(calendar.zone)
            mark = "+" if segment.counted else " "
            lines.append(
                f"  {mark} {local_start:%a %d %b %H:%M} → {local_end:%a %d %b %H:%M}  "
                f"{duration(segment.business_seconds) if segment.counted else '':>8}  {segment.why}"
            )
        if clock.state is not ClockState.NOT_APPLICABLE:
            lines.append(f"  = {duration(total)} counted of {duration(clock.target_seconds)}")
    return "\n".join(lines)

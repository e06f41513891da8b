"""How tickets and their clocks are shown: stable JSON, CSV, terminal tables, evidence traces."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from rich.text import Text

from sla_tracker.core.clocks import Clock, ClockState, explain
from sla_tracker.core.instants import format_instant
from sla_tracker.present.output import Column, FittedTable, csv_text
from sla_tracker.present.when import duration, local_instant, relative

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import datetime, tzinfo

    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.decisions import DecisionRecord
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.storage.judging import TransitionRow

LANG = "en"  # the CLI speaks English; reports, statements and alerts have their own language

STATE_STYLE = {
    ClockState.RUNNING: "",
    ClockState.PAUSED: "blue",
    ClockState.MET: "green",
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


def ticket_json(
    report: JudgedTicket, decisions: Sequence[DecisionRecord] | None = None
) -> dict[str, Any]:
    """The stable JSON of ``sla-tracker ticket --json`` (and each item of ``tickets --json``);
    ``ticket --json`` adds the audit trail as ``decisions``."""
    classification = report.classification
    trail = {} if decisions is None else {"decisions": [decision_json(d) for d in decisions]}
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
        **trail,
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


STATUS_NAMES = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}  # Freshdesk's built-in


def status_label(code: int | None, names: Mapping[int, str]) -> str:
    """A status as the help desk names it (custom statuses from its synced ticket fields);
    "status 7" for a code it has not named."""
    if code is None:
        return "—"
    return names.get(code) or STATUS_NAMES.get(code) or f"status {code}"


def business(seconds: int | None) -> str:
    """A business-time length: hours never roll into days (a business day is not 24 h)."""
    return "" if seconds is None else duration(seconds, LANG, largest="hour")


def _when(at: datetime, zone: tzinfo, now: datetime) -> str:
    """Local time with its weekday (the year when not ``now``'s) and how far from ``now``."""
    local = local_instant(at, zone, LANG, year=at.astimezone(zone).year != now.year)
    return f"{local} ({relative(at, now, LANG)})"


def _clock_cell(clock: Clock, *, now: datetime, threshold: float) -> Text:
    """A clock in a few words, coloured by state (see ``LEGEND``); "!" marks it at risk."""
    state = clock.state
    if state in (ClockState.RUNNING, ClockState.PAUSED):
        seconds = clock.remaining_seconds or 0  # to the minute when it matters, else hours
        left = (
            f"{duration(seconds, LANG, largest='hour', parts=1 if seconds >= 36_000 else 2)} left"
        )
        if clock.at_risk(threshold):
            return Text(f"! {left}", style="bold yellow")
        return Text(f"paused, {left}" if state is ClockState.PAUSED else left,
                    style=STATE_STYLE[state])  # fmt: skip
    if state is ClockState.BREACHED and clock.breached_at is not None:
        since = duration((now - clock.breached_at).total_seconds(), LANG, parts=1)
        return Text(f"breached {since} ago", style=STATE_STYLE[state])
    words = {ClockState.BREACHED_CLOSED: "breached, stopped", ClockState.NOT_APPLICABLE: "—"}
    return Text(words.get(state, str(state)), style=STATE_STYLE[state])


LEGEND = "! at risk (yellow) · breached (red) · met (green) · paused (blue) · ⚠ to review"


def tickets_table(
    reports: Sequence[JudgedTicket],
    *,
    title: str,
    now: datetime,
    threshold: float,
    statuses: Mapping[int, str],
) -> FittedTable:
    """Tickets as rows that fit the terminal: id, severity, clocks never cut; status and
    "subject · company" shortened to what is left. ``render`` draws it at the terminal's
    width; ``.table(width)`` at any other."""
    table = FittedTable(
        title,
        [Column("id", justify="right"), Column("severity"), Column("status", flexible=True),
         Column("response"), Column("restoration"), Column("subject · company", flexible=True)],
        caption=LEGEND,
    )  # fmt: skip
    for report in reports:
        company = report.company_name or (str(report.company_id) if report.company_id else "")
        table.rows.append([
            f"{'⚠ ' if report.needs_review else ''}{report.id}",  # ids stay aligned
            str(report.classification.severity.value),
            status_label(report.status, statuses),
            _clock_cell(report.response, now=now, threshold=threshold),
            _clock_cell(report.restoration, now=now, threshold=threshold),
            " · ".join(part for part in (report.subject or "", company) if part),
        ])  # fmt: skip
    return table


def _disagreement(report: JudgedTicket, response: Clock) -> list[str]:
    """Freshdesk's response target against the contract's, by how much (the judge found
    the gap beyond its tolerance)."""
    if not report.disagreements or report.fr_due_by is None or response.deadline is None:
        return []
    gap = (report.fr_due_by - response.deadline).total_seconds()
    direction = "earlier" if gap < 0 else "later"
    return [f"    ≠ Freshdesk's fr_due_by is {duration(gap, LANG)} {direction} than the deadline"]


def _transition(change: TransitionRow, zone: tzinfo, statuses: Mapping[int, str]) -> str:
    """A status change with its names, how it is known and when the tracker saw it."""
    seen = "" if change.observed_at is None else local_instant(change.observed_at, zone, LANG)
    return (
        f"{local_instant(change.at, zone, LANG)}  {status_label(change.from_status, statuses)} → "
        f"{status_label(change.to_status, statuses)}  [{change.kind}: {change.evidence}; "
        f"seen {seen or '—'}]"
    )


def decision_json(record: DecisionRecord) -> dict[str, Any]:
    """One item of ``ticket --json``'s ``decisions``: the audit trail as recorded."""
    return {
        "kind": record.kind,
        "dimension": record.dimension,
        "value": record.value,
        "reason": record.reason,
        "note": record.note,
        "from": _instant(record.starts_at),
        "to": _instant(record.ends_at),
        "by": record.by,
        "at": format_instant(record.at),
        "superseded": record.superseded,
    }


def decision_lines(decisions: Sequence[DecisionRecord], zone: tzinfo, now: datetime) -> list[str]:
    """The audit trail for a person: who decided what, when and why, oldest first."""
    if not decisions:
        return ["Decisions: none recorded (rules and defaults only)"]
    lines = ["Decisions (oldest first):"]
    for record in decisions:
        at = local_instant(record.at, zone, LANG, year=record.at.year != now.year)
        if record.kind == "classification":
            what = f"classified {record.dimension} = {record.value}: {record.reason}"
        elif record.kind == "exclusion":
            scope = "whole ticket"
            if record.starts_at is not None and record.ends_at is not None:
                scope = (f"{local_instant(record.starts_at, zone, LANG)} → "
                         f"{local_instant(record.ends_at, zone, LANG)}")  # fmt: skip
            what = f"excluded ({record.reason}, {scope}): {record.note}"
        else:
            what = f"lifted the exclusions: {record.reason}"
        mark = " [superseded]" if record.superseded else ""
        lines.append(f"  {at}  {record.by} {what}{mark}")
    return lines


def ticket_text(
    report: JudgedTicket,
    calendar: BusinessCalendar,
    *,
    now: datetime,
    statuses: Mapping[int, str],
    decisions: Sequence[DecisionRecord],
) -> str:
    """The timeline, the clocks and the audit trail of one ticket, for a person."""
    classification = report.classification
    zone = calendar.zone
    lines = [
        f"Ticket {report.id}: {report.subject}",
        f"  company: {report.company_name or report.company_id}",
        f"  status: {status_label(report.status, statuses)}",
        f"  created: {_when(report.created_at, zone, now)} ({calendar.timezone})",
        "  channel: "
        + ("accepted" if report.accepted_channel else "not accepted (C2): no SLA obligation"),
    ]
    for name in ("severity", "gtr_object", "external_link", "non_standard_fields"):
        decision = getattr(classification, name)
        origin = {
            "rule": f"rule {decision.by}",
            "person": f"{decision.by}: {decision.reason}",
            "default": "no rule matched",
        }[decision.source]
        lines.append(f"  {name}: {decision.value} ({origin})")
    lines.append(
        "  GTR: " + ("eligible" if not report.gtr_reasons else "; ".join(report.gtr_reasons))
    )
    lines += decision_lines(decisions, zone, now)
    lines.append("Timeline:")
    lines += [f"  {_transition(change, zone, statuses)}" for change in report.transitions]
    lines.append("Clocks:")
    freshdesk = {
        "response": ("Freshdesk fr_due_by", report.fr_due_by, ""),
        "restoration": ("Freshdesk due_by", report.due_by, " (its resolution target, not the GTR)"),
    }
    for clock in (report.response, report.restoration):
        lines.append(
            f"  {clock.name}: {clock.state}" + (f" — {clock.reason}" if clock.reason else "")
        )
        if clock.state is not ClockState.NOT_APPLICABLE:
            contractual = "" if clock.contractual else " (internal target, not contractual)"
            lines.append(
                f"    target {business(clock.target_seconds)}{contractual}, elapsed "
                f"{business(clock.elapsed_seconds)}, remaining {business(clock.remaining_seconds)}"
            )
            if clock.deadline is not None:
                lines.append(
                    f"    deadline {_when(clock.deadline, zone, now)}{_outcome(clock, zone)}"
                )
            if clock.breached_at:
                lines.append(f"    breached {_when(clock.breached_at, zone, now)}")
        label, due, note = freshdesk[clock.name]
        lines.append(f"    {label} {'—' if due is None else local_instant(due, zone, LANG)}{note}")
        if clock.name == "response":
            lines += _disagreement(report, clock)
    lines += [f"Needs review: {reason}" for reason in report.needs_review]
    return "\n".join(lines)


RULES = {  # where each clock's rules are written, for a reader who wants the why
    "response": "docs/contract-rules.md#c4--response-to-a-blocking-anomaly-2-business-hours",
    "restoration": "docs/contract-rules.md#c8--restoration-guarantee-gtr",
}


def _outcome(clock: Clock, zone: tzinfo) -> str:
    """What stopped the clock, beside its deadline: the instant, and the margin when met."""
    if clock.stopped_at is None:
        return ""
    event = "answered" if clock.name == "response" else "restored"
    margin = f", {business(clock.margin_seconds)} to spare" if clock.state is ClockState.MET else ""
    return f"; {event} {local_instant(clock.stopped_at, zone, LANG)}{margin}"


def explanation_text(
    report: JudgedTicket,
    calendar: BusinessCalendar,
    *,
    now: datetime,
    fingerprint: str,
    statuses: Mapping[int, str] | None = None,
    decisions: Sequence[DecisionRecord] | None = None,
) -> str:
    """The evidence trace: every interval counted or not and why, and what it rests on
    (with ``decisions``, the audit trail the clocks were judged under)."""
    if report.seen is None:
        raise ValueError("the evidence trace needs a ticket judged with its detail")
    zone, names = calendar.zone, statuses or {}
    lines = [
        f"Evidence for ticket {report.id} as of {local_instant(now, zone, LANG, year=True)} "
        f"({format_instant(now)})",
        f"Calendar {calendar.name} ({calendar.timezone}); settings fingerprint {fingerprint}",
        f"Snapshot: first seen {local_instant(report.seen.first_seen_at, zone, LANG)}, last "
        f"polled {_when(report.seen.last_seen_at, zone, now)}; {len(report.transitions)} status "
        "transition(s) used:",
    ]
    lines += [f"  {_transition(change, zone, names)}" for change in report.transitions]
    if decisions is not None:
        lines += decision_lines(decisions, zone, now)
    for clock in (report.response, report.restoration):
        lines.append(
            f"{clock.name} clock: {clock.state}"
            + (f" — {clock.reason}" if clock.reason else "")
            + f"  [rules: {RULES[clock.name]}]"
        )
        total = 0
        for segment in explain(clock, calendar, now=now):
            total += segment.business_seconds if segment.counted else 0
            mark = "+" if segment.counted else " "
            counted = business(segment.business_seconds) if segment.counted else ""
            lines.append(
                f"  {mark} {local_instant(segment.start, zone, LANG)} → "
                f"{local_instant(segment.end, zone, LANG)}  {counted:>14}  {segment.why}"
            )
        if clock.state is not ClockState.NOT_APPLICABLE:
            lines.append(f"  = {business(total)} counted of {business(clock.target_seconds)}")
    return "\n".join(lines)

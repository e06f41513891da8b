"""Alerts: a running clock crossing a threshold (SPEC §4, default 50 % and 80 %), a breach,
a GTR ticket starting to accrue indemnity.

Each event is recorded before anything is sent, under a unique key per ticket, clock, kind
and threshold, so it is due once; ``delivery/alerts.py`` renders and sends the recorded ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sla_tracker.core.instants import format_instant
from sla_tracker.storage.alerts import record_new_events

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from sla_tracker.judge import JudgedTicket
    from sla_tracker.storage.engine import Engine


def due_events(reports: Iterable[JudgedTicket], thresholds: Iterable[int]) -> list[dict[str, Any]]:
    """The events the clocks call for now: thresholds crossed, breaches, GTR accruing."""
    events = []
    for report in reports:
        for clock in (report.response, report.restoration):
            overdue = clock.breached and clock.stopped_at is None  # still running past its target
            # An overdue clock has used at least 100 %: every threshold (1-99 %) is crossed.
            crossed = [t for t in thresholds if overdue or clock.at_risk(t / 100)]
            if not (crossed or overdue):
                continue
            detail = {
                "subject": report.subject,
                "company": report.company_name,
                "severity": report.classification.severity.value,
                "group_id": report.group_id,
                "agent_id": report.responder_id,
                "deadline": format_instant(clock.deadline) if clock.deadline else None,
                "remaining_seconds": clock.remaining_seconds,
            }
            for threshold in crossed:
                events.append(_event(report.id, clock.name, "threshold", threshold, detail))
            if overdue:
                kind = "gtr_accruing" if clock.name == "restoration" else "breach"
                events.append(_event(report.id, clock.name, kind, 0, detail))
    return events


def _event(
    ticket_id: int, clock: str, kind: str, threshold: int, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "clock": clock,
        "kind": kind,
        "threshold": threshold,
        "detail": detail,
    }


def record_events(engine: Engine, events: list[dict[str, Any]], *, now: datetime) -> int:
    """Insert the events not recorded yet; returns how many are new."""
    if not events:
        return 0
    return record_new_events(
        engine, [{**event, "recorded_at": now, "attempts": 0} for event in events]
    )

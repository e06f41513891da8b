"""The e-mails people receive: alerts (one, or a digest of several), the weekly SLA report."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sla_tracker.present.templates import render_email

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import tzinfo

    from sla_tracker.config import FreshdeskSettings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.present.templates import RenderedEmail
    from sla_tracker.reports.weekly import WeeklyReport

LIST_LIMIT = 10
"""Rows of a list shown in a document; the rest are counted, with the command listing them."""


def ticket_url(freshdesk: FreshdeskSettings, ticket_id: int) -> str | None:
    """The ticket in the agents' interface: ``https://<domain>.freshdesk.com/a/tickets/<id>``
    (or under ``base_url``, a proxy or the simulator); None when neither is configured."""
    if freshdesk.domain:
        return f"https://{freshdesk.domain}.freshdesk.com/a/tickets/{ticket_id}"
    if freshdesk.base_url:
        return f"{str(freshdesk.base_url).rstrip('/')}/a/tickets/{ticket_id}"
    return None


def render_alerts(
    events: Sequence[Mapping[str, Any]],
    *,
    language: str,
    zone: tzinfo,
    now: datetime,
    freshdesk: FreshdeskSettings,
    groups: Mapping[int, str] | None = None,
    agents: Mapping[int, str] | None = None,
) -> RenderedEmail:
    """One message for ``events`` (as recorded by ``alerts.record_events``): a single alert,
    or a digest of several, with the names of the groups and agents known.

    Of the events of one ticket's clock, only the strongest is shown (a breach says more
    than the thresholds crossed on the way); missed targets come first, then the least
    time left."""
    strongest: dict[tuple[int, str], Mapping[str, Any]] = {}
    for event in events:
        key = (event["ticket_id"], event["clock"])
        if key not in strongest or _strength(event) > _strength(strongest[key]):
            strongest[key] = event
    shown = sorted(strongest.values(), key=_urgency)
    alerts = []
    for event in shown:
        detail = event.get("detail") or {}
        deadline = detail.get("deadline")
        alerts.append(
            {
                "e": event,
                "d": {"severity": None, "company": None, "remaining_seconds": 0, **detail},
                "deadline": datetime.fromisoformat(deadline) if deadline else None,
                "url": ticket_url(freshdesk, event["ticket_id"]),
                "group": _team(detail.get("group_id"), groups),
                "agent": _team(detail.get("agent_id"), agents),
            }
        )
    context = {
        "alerts": alerts,
        "breached": sum(1 for event in shown if event["kind"] != "threshold"),
        "zone": zone,
        "now": now,
    }
    return render_email("alert", context, language)


def _team(team_id: int | None, names: Mapping[int, str] | None) -> dict[str, Any]:
    """A group or agent as ``words.team`` shows it: its name, else its id, else unassigned."""
    return {"id": team_id, "name": (names or {}).get(team_id) if team_id else None}


def _strength(event: Mapping[str, Any]) -> int:
    return int(event["threshold"]) if event["kind"] == "threshold" else 100


def _urgency(event: Mapping[str, Any]) -> tuple[int, float, int]:
    left = (event.get("detail") or {}).get("remaining_seconds") or 0
    return (-_strength(event), left, event["ticket_id"])


def render_weekly_report(
    report: WeeklyReport, *, language: str, calendar: BusinessCalendar
) -> RenderedEmail:
    """The week's report, its instants in the calendar's time zone."""
    context = {
        "r": report,
        "zone": calendar.zone,
        "now": report.as_of,
        "timezone": calendar.timezone,
        "bar_max": max([1, *report.received.values()]),
        "limit": LIST_LIMIT,
    }
    return render_email("weekly-report", context, language)

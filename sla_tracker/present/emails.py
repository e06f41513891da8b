"""The e-mails people receive: an alert, the weekly SLA report (French or English)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sla_tracker.present.templates import render_email

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.present.templates import RenderedEmail
    from sla_tracker.reports.weekly import WeeklyReport


def render_alert(event: Mapping[str, Any], language: str) -> RenderedEmail:
    """One alert event, as recorded by ``alerts.record_events``."""
    return render_email("alert", {"e": event, "d": event.get("detail") or {}}, language)


def render_weekly_report(
    report: WeeklyReport, *, language: str, calendar: BusinessCalendar
) -> RenderedEmail:
    """The week's report, its instants in the calendar's time zone."""
    context = {
        "r": report,
        "zone": calendar.zone,
        "timezone": calendar.timezone,
        "bar_max": max([1, *report.received.values()]),
    }
    return render_email("weekly-report", context, language)

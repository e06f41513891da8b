"""Instants as text: the one ISO 8601 form the tracker reads and the one it writes."""

from __future__ import annotations

from datetime import UTC, datetime

from sla_tracker.core.calendar import FIRST_YEAR, LAST_YEAR


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant carrying ``Z`` or an offset, returned in UTC.

    Only years the calendar engine can tabulate are accepted: an instant in year 1 or 9999
    would be stored, then break every later read.

    Raises:
        ValueError: not ISO 8601, naive (a wall time without a zone is ambiguous), or
            outside the calendar's years.
    """
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 instant (e.g. 2026-11-27T15:30:00Z)"
        ) from None
    if instant.tzinfo is None:
        raise ValueError(
            f"{text!r} has no time zone; add Z or an offset such as +01:00 so the instant "
            "is unambiguous"
        )
    if not FIRST_YEAR <= instant.year <= LAST_YEAR:  # also keeps the UTC conversion in range
        raise ValueError(f"{text!r} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    return instant.astimezone(UTC)


def format_instant(instant: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: UTC, whole seconds, as Freshdesk writes instants."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

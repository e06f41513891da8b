"""Instants as text: the one ISO 8601 form the tracker reads and the one it writes."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant carrying ``Z`` or an offset, returned in UTC.

    Raises:
        ValueError: not ISO 8601, or naive (a wall time without a zone is ambiguous).
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
    return instant.astimezone(UTC)


def format_instant(instant: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``: UTC, whole seconds, as Freshdesk writes instants."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""Alert events: recorded once per ticket, clock, kind and threshold; read back until sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from sla_tracker.storage.tables import AlertEvent, table_of
from sla_tracker.storage.writes import insert_new

if TYPE_CHECKING:
    from sqlalchemy import Engine

EVENTS = table_of(AlertEvent)


def record_new_events(engine: Engine, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose event is not recorded yet; returns how many were new."""
    with engine.begin() as connection:
        return insert_new(
            connection, EVENTS, rows, unique=["ticket_id", "clock", "kind", "threshold"]
        )


def unsent_events(
    engine: Engine, *, email: bool, webhook: bool, max_attempts: int
) -> list[dict[str, Any]]:
    """Events not yet sent on one of the channels asked for, oldest first; an event that
    failed ``max_attempts`` times is left alone."""
    channels = []
    if email:
        channels.append(EVENTS.c.email_sent_at.is_(None))
    if webhook:
        channels.append(EVENTS.c.webhook_sent_at.is_(None))
    if not channels:
        return []
    query = (
        select(EVENTS).where(or_(*channels), EVENTS.c.attempts < max_attempts).order_by(EVENTS.c.id)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]

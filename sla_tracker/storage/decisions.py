"""People's decisions, append-only: classification overrides and exclusions (SPEC §3, C11)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from sla_tracker.storage.judgments import forget_judgments
from sla_tracker.storage.tables import ClassificationOverride, ExclusionRecord, Ticket, table_of
from sla_tracker.storage.writes import insert

if TYPE_CHECKING:
    from sqlalchemy import Connection

EXCLUSIONS = table_of(ExclusionRecord)


def ticket_exists(connection: Connection, ticket_id: int) -> bool:
    tickets = table_of(Ticket)
    return bool(connection.execute(select(func.count()).where(tickets.c.id == ticket_id)).scalar())


def add_overrides(connection: Connection, rows: list[dict[str, Any]]) -> None:
    insert(connection, table_of(ClassificationOverride), rows)
    forget_judgments(connection, [row["ticket_id"] for row in rows])


def add_exclusion_records(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Exclusions and their revocations: rows are never updated, a later one supersedes."""
    insert(connection, EXCLUSIONS, rows)
    forget_judgments(connection, [row["ticket_id"] for row in rows])


def last_exclusion_action(connection: Connection, ticket_id: int) -> str | None:
    """``exclude`` or ``revoke``: the ticket's latest exclusion record, or None."""
    last = connection.execute(
        select(EXCLUSIONS.c.action)
        .where(EXCLUSIONS.c.ticket_id == ticket_id)
        .order_by(EXCLUSIONS.c.at.desc(), EXCLUSIONS.c.id.desc())
    ).first()
    return None if last is None else str(last[0])

"""Stored tickets and what a poll writes beside them: snapshots, customer replies, status
transitions, the change log, and the reference data (companies, ticket fields)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from sla_tracker.storage.judgments import forget_judgments
from sla_tracker.storage.tables import (
    Company,
    CustomerReply,
    StatusTransition,
    Ticket,
    TicketChange,
    TicketField,
    TicketSnapshot,
    table_of,
)
from sla_tracker.storage.writes import insert, insert_new, upsert

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from sqlalchemy import Connection, Engine

TICKET_TABLE = table_of(Ticket)
SNAPSHOT_TABLE = table_of(TicketSnapshot)
TRANSITION_TABLE = table_of(StatusTransition)
CHANGE_TABLE = table_of(TicketChange)
# A ticket version's status facts, kept for every ``updated_at`` in the snapshot log.
SNAPSHOT_FIELDS = tuple(
    column.name
    for column in SNAPSHOT_TABLE.columns
    if column.name not in ("id", "ticket_id", "observed_at")
)
TRANSITION_KEY = ("from_status", "to_status", "at", "kind", "evidence")


def stored_tickets(connection: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The stored rows of these tickets (without the bulky raw record and description)."""
    columns = [
        column for column in TICKET_TABLE.columns if column.name not in ("raw", "description_text")
    ]
    result = connection.execute(select(*columns).where(TICKET_TABLE.c.id.in_(ids)))
    return {row["id"]: dict(row) for row in result.mappings()}


def snapshot_row(row: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "ticket_id": row["id"],
        "observed_at": now,
        **{name: row.get(name) for name in SNAPSHOT_FIELDS},
    }


def write_page(
    connection: Connection,
    *,
    tickets: list[dict[str, Any]],
    snapshots: list[dict[str, Any]],
    replies: list[dict[str, Any]],
    transitions: list[dict[str, Any]],
    changes: list[dict[str, Any]],
) -> None:
    """One page's rows, in a few statements; a snapshot or reply seen twice is kept once."""
    upsert(connection, TICKET_TABLE, tickets,
           keep=("first_seen_at",), keep_if_null=("description_text",))  # fmt: skip
    insert_new(connection, SNAPSHOT_TABLE, snapshots)
    insert_new(connection, table_of(CustomerReply), replies)
    insert(connection, TRANSITION_TABLE, transitions)
    insert(connection, CHANGE_TABLE, changes)
    touched = [row["id"] for row in tickets]
    touched += [row["ticket_id"] for rows in (snapshots, replies, transitions) for row in rows]
    forget_judgments(connection, touched)


def snapshots_in_order(connection: Connection, ticket_id: int) -> list[dict[str, Any]]:
    """Every snapshot of a ticket, oldest ``updated_at`` first."""
    query = (
        select(*[SNAPSHOT_TABLE.c[name] for name in SNAPSHOT_FIELDS])
        .where(SNAPSHOT_TABLE.c.ticket_id == ticket_id)
        .order_by(SNAPSHOT_TABLE.c.updated_at)
    )
    return [dict(snapshot) for snapshot in connection.execute(query).mappings()]


def live_transitions(connection: Connection, ticket_id: int) -> list[tuple[Any, ...]]:
    """The ticket's transitions not superseded, as ``TRANSITION_KEY`` tuples in order."""
    table = TRANSITION_TABLE
    key = [table.c[name] for name in TRANSITION_KEY]
    query = select(*key).where(_live(ticket_id)).order_by(table.c.id)
    return [tuple(row) for row in connection.execute(query)]


def replace_transitions(
    connection: Connection, ticket_id: int, rows: list[dict[str, Any]], *, now: datetime
) -> None:
    """Supersede the live transitions (``--as-of`` still sees them) by ``rows``."""
    connection.execute(update(TRANSITION_TABLE).where(_live(ticket_id)).values(superseded_at=now))
    insert(connection, TRANSITION_TABLE, rows)
    forget_judgments(connection, [ticket_id])


def _live(ticket_id: int) -> Any:
    """The polled transitions in force; webhook ones (``storage/web.py``) are facts of their
    own that a re-derivation from snapshots neither compares nor supersedes."""
    table = TRANSITION_TABLE
    polled = table.c.kind != "webhook"
    return (table.c.ticket_id == ticket_id) & table.c.superseded_at.is_(None) & polled


def reconcile_candidates(
    engine: Engine, *, closed: Iterable[int], stale_before: datetime, limit: int
) -> list[int]:
    """Tickets held open locally that no poll has shown since ``stale_before``."""
    query = (
        select(TICKET_TABLE.c.id)
        .where(
            TICKET_TABLE.c.status.not_in(set(closed)),
            TICKET_TABLE.c.last_seen_at < stale_before,
            ~TICKET_TABLE.c.deleted,
            ~TICKET_TABLE.c.spam,
            ~TICKET_TABLE.c.gone,
        )
        .order_by(TICKET_TABLE.c.last_seen_at, TICKET_TABLE.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def mark_gone(engine: Engine, ticket_id: int, change: dict[str, Any], *, now: datetime) -> None:
    """The help desk no longer has the ticket: flag it and log the change, together."""
    with engine.begin() as connection:
        connection.execute(
            update(TICKET_TABLE)
            .where(TICKET_TABLE.c.id == ticket_id)
            .values(gone=True, last_seen_at=now)
        )
        insert(connection, CHANGE_TABLE, [change])
        forget_judgments(connection, [ticket_id])


def store_companies(connection: Connection, rows: list[dict[str, Any]]) -> None:
    upsert(connection, table_of(Company), rows)


def store_ticket_fields(
    connection: Connection, rows: list[dict[str, Any]], *, fetched_at: datetime
) -> None:
    upsert(connection, table_of(TicketField), [{**row, "fetched_at": fetched_at} for row in rows])

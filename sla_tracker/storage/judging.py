"""The clock engine's reads: tickets as known at an instant (later polls undone from the
change log), their transitions, customer replies and people's decisions, in chunks; and the
one write a judging path may make, keeping the rules' verdicts."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, select, update

from sla_tracker.core.instants import parse_instant
from sla_tracker.storage.bulk import fetch_rows
from sla_tracker.storage.tables import (
    ClassificationOverride,
    Company,
    CustomerReply,
    ExclusionRecord,
    StatusTransition,
    Ticket,
    TicketChange,
    UTCDateTime,
    table_of,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from sqlalchemy import Connection, Engine

INSTANT_COLUMNS = frozenset(
    column.name for column in table_of(Ticket).columns if isinstance(column.type, UTCDateTime)
)
TICKET_COLUMNS = (
    "id", "subject", "rule_fingerprint", "rule_verdict", "updated_at", "status", "priority",
    "source", "type", "tags", "custom_fields", "group_id", "company_id", "responder_id",
    "created_at", "first_seen_at", "first_responded_at", "requester_responded_at", "fr_due_by",
    "due_by", "deleted", "spam", "gone",
)  # fmt: skip
DETAIL_COLUMNS = ("last_seen_at",)


def store_verdicts(
    engine: Engine, verdicts: list[tuple[int, datetime, dict[str, Any]]], fingerprint: str
) -> None:
    """Keep the rules' verdicts for the next evaluation, unless a newer poll came meanwhile."""
    if not verdicts:
        return
    table = table_of(Ticket)
    statement = (
        update(table)
        .where(table.c.id == bindparam("ticket_id"), table.c.updated_at == bindparam("seen"))
        .values(rule_verdict=bindparam("verdict"), rule_fingerprint=fingerprint)
    )
    rows = [{"ticket_id": i, "seen": seen, "verdict": verdict} for i, seen, verdict in verdicts]
    with engine.begin() as connection:
        connection.execute(statement, rows)
    verdicts.clear()


def ticket_id_chunks(
    connection: Connection, ticket_ids: Iterable[int] | None, now: datetime, *, size: int
) -> list[list[int]]:
    table = table_of(Ticket)
    if ticket_ids is None:
        query = select(table.c.id).where(table.c.first_seen_at <= now).order_by(table.c.id)
        ids = list(connection.execute(query).scalars().all())
    else:
        ids = sorted(set(ticket_ids))
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def ticket_rows(
    connection: Connection, ids: list[int], now: datetime, *, detail: bool, exact: bool
) -> list[dict[str, Any]]:
    """The chunk's rows as known by ``now``; ``exact`` when ``ids`` is not a whole id range."""
    table = table_of(Ticket)
    names = TICKET_COLUMNS + DETAIL_COLUMNS if detail else TICKET_COLUMNS
    criteria = [table.c.first_seen_at <= now, table.c.id.between(ids[0], ids[-1])]
    if exact:
        criteria.append(table.c.id.in_(ids))
    columns = [table.c[name] for name in names]
    found = fetch_rows(connection, columns, *criteria, order_by=[table.c.id])
    rows = [dict(zip(names, values, strict=True)) for values in found]
    # As of an earlier instant: undo what later polls changed, newest change first.
    changes = table_of(TicketChange)
    later = select(changes.c.ticket_id, changes.c.changes).where(
        changes.c.observed_at > now, changes.c.ticket_id.between(ids[0], ids[-1])
    )
    by_id = {row["id"]: row for row in rows}
    for ticket_id, diff in reversed(connection.execute(later.order_by(changes.c.id)).all()):
        row = by_id.get(ticket_id)
        for key, (old, _new) in (diff or {}).items():
            if (
                row is not None and key in row
            ):  # tracked columns; notes such as ignored snapshots are not
                row[key] = _revert(key, old)
    return rows


def descriptions(connection: Connection, ids: list[int]) -> dict[int, str | None]:
    table = table_of(Ticket)
    found: dict[int, str | None] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        query = select(table.c.id, table.c.description_text).where(table.c.id.in_(part))
        found.update({ticket_id: text for ticket_id, text in connection.execute(query).all()})
    return found


def _revert(key: str, old: Any) -> Any:
    """A change log's old value back in column form (instants are stored there as text)."""
    return parse_instant(old) if key in INSTANT_COLUMNS and isinstance(old, str) else old


def decisions_by_ticket(
    connection: Connection, table: Any, now: datetime
) -> dict[int, list[dict[str, Any]]]:
    """Decisions known by ``now``, per ticket, in time order (small tables: read whole)."""
    query = (
        select(table).where(table.c.at <= now).order_by(table.c.ticket_id, table.c.at, table.c.id)
    )
    result = connection.execute(query)
    names = list(result.keys())
    grouped: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for values in result.all():
        row = dict(zip(names, values, strict=True))
        grouped[row["ticket_id"]].append(row)
    return grouped


class TransitionRow(NamedTuple):
    from_status: int | None
    to_status: int
    at: datetime
    kind: str
    observed_at: datetime | None = None  # loaded only for the detail views
    evidence: str | None = None


def transitions_by_ticket(
    connection: Connection, ids: list[int], now: datetime, *, detail: bool, exact: bool
) -> dict[int, list[TransitionRow]]:
    """Status transitions observed by ``now``, per ticket, in time order."""
    table = table_of(StatusTransition)
    columns = [table.c.ticket_id, table.c.from_status, table.c.to_status, table.c.at, table.c.kind]
    if detail:
        columns += [table.c.observed_at, table.c.evidence]
    criteria = [
        table.c.observed_at <= now,
        table.c.superseded_at.is_(None) | (table.c.superseded_at > now),
        table.c.ticket_id.between(ids[0], ids[-1]),
    ]
    if exact:  # scattered ids: the range alone would read the transitions of every ticket between
        criteria.append(table.c.ticket_id.in_(ids))
    order = (table.c.ticket_id, table.c.at, table.c.id)
    grouped: dict[int, list[TransitionRow]] = defaultdict(list)
    for ticket_id, *values in fetch_rows(connection, columns, *criteria, order_by=order):
        grouped[ticket_id].append(TransitionRow(*values))
    return grouped


def replies_by_ticket(
    connection: Connection, ids: list[int], now: datetime, *, exact: bool
) -> dict[int, list[datetime]]:
    """Customer reply instants observed by ``now``, per ticket, in time order."""
    table = table_of(CustomerReply)
    criteria = [table.c.observed_at <= now, table.c.ticket_id.between(ids[0], ids[-1])]
    if exact:
        criteria.append(table.c.ticket_id.in_(ids))
    grouped: dict[int, list[datetime]] = defaultdict(list)
    columns = [table.c.ticket_id, table.c.at]
    for ticket_id, at in fetch_rows(connection, columns, *criteria, order_by=[table.c.at]):
        grouped[ticket_id].append(at)
    return grouped


def company_names(connection: Connection) -> dict[int, str]:
    company = table_of(Company)
    return dict(connection.execute(select(company.c.id, company.c.name)).all())


def decisions_known_by(
    connection: Connection, now: datetime
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, list[dict[str, Any]]]]:
    """People's classifications and exclusions recorded by ``now``, per ticket."""
    return (
        decisions_by_ticket(connection, table_of(ClassificationOverride), now),
        decisions_by_ticket(connection, table_of(ExclusionRecord), now),
    )


def stale_verdict_ids(engine: Engine, fingerprint: str) -> list[int]:
    """Tickets whose kept verdict is missing or was computed with other rules."""
    table = table_of(Ticket)
    query = select(table.c.id).where(
        table.c.rule_fingerprint.is_(None) | (table.c.rule_fingerprint != fingerprint)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())

"""Kept judgments: the ``ticket_judgment`` rows the clock engine keeps between events, the
reads that filter them in SQL and stream them, and the deletes writers make when they change
what a judgment was computed from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select, text

from sla_tracker.storage.tables import (
    JudgmentDirty,
    JudgmentState,
    Ticket,
    TicketJudgment,
    table_of,
)
from sla_tracker.storage.writes import upsert

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import datetime

    from sqlalchemy import Connection, Engine

JUDGMENTS = table_of(TicketJudgment)
TICKETS = table_of(Ticket)
DIRTY = table_of(JudgmentDirty)
STATE = table_of(JudgmentState)
STREAM_BATCH = 2_000  # rows fetched at a time: constant memory, few round trips


@dataclass(frozen=True)
class Filters:
    """What a listing asks for; each is pushed into the SQL query."""

    only_open: bool = False
    severity: str | None = None
    company_id: int | None = None
    group_id: int | None = None
    responder_id: int | None = None
    at_risk: bool = False
    breached: bool = False
    gtr_breached: bool = False  # the restoration clock (GTR) past its target: indemnities
    urgent: bool = False  # at risk or breached (either clock): the board
    created_from: datetime | None = None  # created at or after
    created_before: datetime | None = None


@dataclass(frozen=True)
class Stale:
    """The tickets with no judgment valid at an instant, and how they were found."""

    ids: list[int]
    full: bool  # the settings changed: every ticket not judged with them is stale
    last_mark: int  # the dirty marks seen (a refresh clears those, not later ones)


def keep_judgments(
    engine: Engine, rows: list[dict[str, Any]], *, last_mark: int, failed: Iterable[int] = ()
) -> None:
    """Store judgments and clear the dirty marks they answer (up to ``last_mark``), in one
    transaction; tickets that could not be judged stay marked."""
    with engine.begin() as connection:
        if rows:
            upsert(connection, JUDGMENTS, rows)
        kept = [row["ticket_id"] for row in rows]
        for start in range(0, len(kept), 500):
            part = kept[start : start + 500]
            connection.execute(
                delete(DIRTY).where(DIRTY.c.ticket_id.in_(part), DIRTY.c.id <= last_mark)
            )
        _mark(connection, failed)


def forget_judgments(connection: Connection, ticket_ids: Iterable[int]) -> None:
    """Writers call this in their transaction when they change a ticket's history or decisions:
    its judgment is dropped and the ticket marked, so it is judged again, never read stale."""
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        connection.execute(delete(JUDGMENTS).where(JUDGMENTS.c.ticket_id.in_(part)))
    _mark(connection, ids)


def _mark(connection: Connection, ticket_ids: Iterable[int]) -> None:
    rows = [{"ticket_id": ticket_id} for ticket_id in sorted(set(ticket_ids))]
    if rows:
        connection.execute(DIRTY.insert(), rows)


def analyze_judgments(engine: Engine) -> None:
    """Refresh the planner's statistics after many judgments were written: without them a
    database that has just kept a million judgments scans them all for a listing of a few
    (0.7 s rather than 2 ms for ``--open --at-risk`` on PostgreSQL) until autovacuum runs."""
    with engine.begin() as connection:
        connection.execute(text("ANALYZE ticket_judgment"))


def record_full_refresh(engine: Engine, fingerprint: str) -> None:
    """Every ticket was judged with ``fingerprint``: stale ones are found by index from now."""
    with engine.begin() as connection:
        upsert(connection, STATE, [{"id": 1, "fingerprint": fingerprint}])


def _valid(fingerprint: str, now: datetime) -> Any:
    # ``judged_at`` inside an expression: its index serves the stale tickets' search, and a
    # listing through it would read every judgment (SQLite chose it over the open tickets').
    judged_at = func.coalesce(JUDGMENTS.c.judged_at, JUDGMENTS.c.judged_at)
    return and_(
        JUDGMENTS.c.fingerprint == fingerprint,
        judged_at <= now,
        or_(JUDGMENTS.c.valid_until.is_(None), JUDGMENTS.c.valid_until > now),
    )


def stale_ids(
    connection: Connection, fingerprint: str, now: datetime, *, thorough: bool = False
) -> Stale:
    """Tickets known by ``now`` with no judgment valid at ``now``: changed by a writer (or
    new), computed with other settings, past their ``valid_until``, or judged after ``now``.

    While every judgment was made with these settings, the marked tickets and two index
    ranges answer; otherwise (other rules, calendar or clock settings), or ``thorough``,
    every ticket is checked, until a full refresh records the fingerprint.
    """
    last_mark = connection.execute(select(func.max(DIRTY.c.id))).scalar() or 0
    state = connection.execute(select(STATE.c.fingerprint).where(STATE.c.id == 1)).scalar()
    known = TICKETS.c.first_seen_at <= now
    if thorough or state != fingerprint:
        joined = TICKETS.outerjoin(JUDGMENTS, JUDGMENTS.c.ticket_id == TICKETS.c.id)
        query = (
            select(TICKETS.c.id)
            .select_from(joined)
            .where(known, or_(JUDGMENTS.c.ticket_id.is_(None), ~_valid(fingerprint, now)))
        )
        return Stale(sorted(connection.execute(query).scalars()), full=True, last_mark=last_mark)
    # Three small index reads, then the few candidates checked against the ticket table (one
    # query joining them would let PostgreSQL scan every ticket).
    candidates = set(connection.execute(select(DIRTY.c.ticket_id)).scalars())
    for expired in (JUDGMENTS.c.valid_until <= now, JUDGMENTS.c.judged_at > now):
        candidates.update(
            connection.execute(select(JUDGMENTS.c.ticket_id).where(expired)).scalars()
        )
    ordered, found = sorted(candidates), list[int]()
    for start in range(0, len(ordered), 500):
        part = ordered[start : start + 500]
        query = select(TICKETS.c.id).where(known, TICKETS.c.id.in_(part))
        found += connection.execute(query).scalars()
    return Stale(sorted(found), full=False, last_mark=last_mark)


def _criteria(filters: Filters, now: datetime) -> list[Any]:
    criteria: list[Any] = [JUDGMENTS.c.listed.is_(True)]
    if filters.only_open:
        criteria.append(JUDGMENTS.c.open.is_(True))
    if filters.severity is not None:
        criteria.append(JUDGMENTS.c.severity == filters.severity)
    for name in ("company_id", "group_id", "responder_id"):
        if getattr(filters, name) is not None:
            criteria.append(JUDGMENTS.c[name] == getattr(filters, name))
    breached = [JUDGMENTS.c[f"{clock}_breach_at"] < now for clock in ("response", "restoration")]
    at_risk = or_(
        *(
            and_(
                JUDGMENTS.c[f"{clock}_risk_at"] <= now,
                or_(
                    JUDGMENTS.c[f"{clock}_breach_at"].is_(None),
                    JUDGMENTS.c[f"{clock}_breach_at"] >= now,
                ),
            )
            for clock in ("response", "restoration")
        )
    )
    if filters.breached:
        criteria.append(or_(*breached))
    if filters.gtr_breached:
        criteria.append(breached[1])
    if filters.created_from is not None:
        criteria.append(JUDGMENTS.c.created_at >= filters.created_from)
    if filters.created_before is not None:
        criteria.append(JUDGMENTS.c.created_at < filters.created_before)
    if filters.at_risk:  # only a clock still counting is at risk: the ticket is open
        criteria += [JUDGMENTS.c.open.is_(True), at_risk]
    if filters.urgent:  # the board: at risk or breached, open
        criteria += [JUDGMENTS.c.open.is_(True), or_(at_risk, *breached)]
    return criteria


def kept_rows(
    connection: Connection,
    fingerprint: str,
    now: datetime,
    filters: Filters,
    *,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The valid judgments matching ``filters`` in ``listing_order``, streamed in batches."""
    columns = [JUDGMENTS.c.ticket_id, JUDGMENTS.c.judged_at, JUDGMENTS.c.company_id,
               JUDGMENTS.c.group_id, JUDGMENTS.c.responder_id, JUDGMENTS.c.body]  # fmt: skip
    query = (
        select(*columns)
        .where(_valid(fingerprint, now), *_criteria(filters, now))
        .order_by(
            JUDGMENTS.c.next_deadline.is_(None),
            JUDGMENTS.c.next_deadline,
            JUDGMENTS.c.waiting_remaining.is_(None),
            JUDGMENTS.c.waiting_remaining,
            JUDGMENTS.c.ticket_id,
        )
    )
    if limit is not None:
        query = query.limit(limit)
    result = connection.execution_options(stream_results=True).execute(query)
    names = list(result.keys())
    for batch in result.partitions(STREAM_BATCH):
        for values in batch:
            yield dict(zip(names, values, strict=True))


def count_kept(connection: Connection, fingerprint: str, now: datetime, filters: Filters) -> int:
    query = select(func.count()).where(_valid(fingerprint, now), *_criteria(filters, now))
    return int(connection.execute(query).scalar() or 0)


def sample_ids(connection: Connection, size: int | None) -> list[int]:
    """Judged tickets to verify: all of them, or a random sample of ``size``."""
    query = select(JUDGMENTS.c.ticket_id)
    if size is not None:
        query = query.order_by(func.random()).limit(size)
    return sorted(connection.execute(query).scalars())


def judged_rows(connection: Connection, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The kept rows of these tickets, whatever their validity (for ``verify``)."""
    found: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ticket_ids), 500):
        part = ticket_ids[start : start + 500]
        result = connection.execute(select(JUDGMENTS).where(JUDGMENTS.c.ticket_id.in_(part)))
        names = list(result.keys())
        for values in result.all():
            row = dict(zip(names, values, strict=True))
            found[row["ticket_id"]] = row
    return found

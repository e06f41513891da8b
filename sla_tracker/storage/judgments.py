"""Kept judgments: the ``ticket_judgment`` rows the clock engine keeps between events, the
reads that filter them in SQL and stream them, and the deletes writers make when they change
what a judgment was computed from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, or_, select

from sla_tracker.storage.tables import Ticket, TicketJudgment, table_of
from sla_tracker.storage.writes import upsert

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from datetime import datetime

    from sqlalchemy import Connection, Engine

JUDGMENTS = table_of(TicketJudgment)
TICKETS = table_of(Ticket)
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


def keep_judgments(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Store judgments (one transaction); an existing row for the ticket is replaced."""
    if rows:
        with engine.begin() as connection:
            upsert(connection, JUDGMENTS, rows)


def forget_judgments(connection: Connection, ticket_ids: Iterable[int]) -> None:
    """Writers call this in their transaction when they change a ticket's history or decisions:
    a missing judgment is recomputed, never read stale."""
    ids = sorted(set(ticket_ids))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        connection.execute(delete(JUDGMENTS).where(JUDGMENTS.c.ticket_id.in_(part)))


def _valid(fingerprint: str, now: datetime) -> Any:
    return and_(
        JUDGMENTS.c.fingerprint == fingerprint,
        JUDGMENTS.c.judged_at <= now,
        or_(JUDGMENTS.c.valid_until.is_(None), JUDGMENTS.c.valid_until > now),
    )


def stale_ids(connection: Connection, fingerprint: str, now: datetime) -> list[int]:
    """Tickets known by ``now`` with no judgment valid at ``now``: missing (new or changed),
    computed with other settings, past its ``valid_until``, or judged after ``now``."""
    joined = TICKETS.outerjoin(JUDGMENTS, JUDGMENTS.c.ticket_id == TICKETS.c.id)
    query = (
        select(TICKETS.c.id)
        .select_from(joined)
        .where(TICKETS.c.first_seen_at <= now)
        .where(or_(JUDGMENTS.c.ticket_id.is_(None), ~_valid(fingerprint, now)))
        .order_by(TICKETS.c.id)
    )
    return list(connection.execute(query).scalars())


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
    if filters.breached:
        criteria.append(or_(*breached))
    if filters.gtr_breached:
        criteria.append(breached[1])
    if filters.at_risk:
        criteria.append(
            or_(
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
        )
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

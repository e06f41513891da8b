"""The weekly report's queries: which tickets it can be about, and its recorded runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from sla_tracker.storage.directory import agent_names, group_names
from sla_tracker.storage.tables import ReportRun, Ticket, table_of

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy import Engine

RUNS = table_of(ReportRun)
BREACH_MARGIN = timedelta(days=62)  # creation → breach, pauses included, for the week's list


def relevant_ticket_ids(
    engine: Engine,
    *,
    start: datetime,
    end: datetime,
    restored_statuses: Collection[int],
    gtr_breached: Collection[int],
) -> list[int]:
    """The tickets the report on [start, end) can be about, found without running their clocks.

    Kept: the week's tickets; tickets still open (risks, exposure, breaches); tickets of the
    two months before the week still unrestored when it began (breaches in the week); and,
    for the indemnities of the week and the year, the tickets created before ``end`` among
    ``gtr_breached`` (every ticket whose GTR clock is breached as the report is made, which
    the kept judgments name). Each test can only keep too much, never too little.
    """
    t = table_of(Ticket)
    restoration = func.coalesce(t.c.resolved_at, t.c.closed_at)
    is_open = or_(t.c.status.not_in(restored_statuses), restoration.is_(None))
    for_the_week = or_(
        t.c.created_at >= start,
        is_open,
        and_(t.c.created_at >= start - BREACH_MARGIN, restoration >= start),
    )
    listed = [~t.c.deleted, ~t.c.spam, ~t.c.gone, t.c.created_at < end]
    with engine.connect() as connection:
        chosen = set(connection.execute(select(t.c.id).where(*listed, for_the_week)).scalars())
        candidates = sorted(set(gtr_breached) - chosen)
        for part in (candidates[i : i + 500] for i in range(0, len(candidates), 500)):
            query = select(t.c.id).where(*listed, t.c.id.in_(part))
            chosen.update(connection.execute(query).scalars())
    return sorted(chosen)


def latest_report_run(engine: Engine, week: str) -> dict[str, Any] | None:
    """The week's report as recorded (its latest copy if ``--force`` sent more), or None."""
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(RUNS).where(RUNS.c.week == week).order_by(RUNS.c.copy_number.desc())
            )
            .mappings()
            .first()
        )
    return None if row is None else dict(row)


def record_report_run(engine: Engine, run: dict[str, Any]) -> int | None:
    """Insert a report run; its id, or None if another process recorded that copy first."""
    try:
        with engine.begin() as connection:
            statement = RUNS.insert().values(run).returning(RUNS.c.id)
            return int(connection.execute(statement).scalar_one())
    except IntegrityError:
        return None


def team_names(engine: Engine) -> tuple[dict[int, str], dict[int, str]]:
    """Every known help-desk group's and agent's name by id, for the per-team breakdowns."""
    with engine.connect() as connection:
        return group_names(connection), agent_names(connection)

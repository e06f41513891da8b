"""The weekly report's queries: which tickets it can be about, and its recorded runs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from sla_tracker.storage.bulk import fetch_rows
from sla_tracker.storage.directory import agent_names, group_names
from sla_tracker.storage.tables import ClassificationOverride, ReportRun, Ticket, table_of

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from sqlalchemy import Connection, Engine

RUNS = table_of(ReportRun)
BREACH_MARGIN = timedelta(days=62)  # creation → breach, pauses included, for the week's list
MIN_GTR_OVERRUN = timedelta(days=3)  # 72 business hours never fit in less wall-clock time


def relevant_ticket_ids(
    engine: Engine,
    *,
    start: datetime,
    end: datetime,
    restored_statuses: Collection[int],
    fingerprint: str,
    gtr_possible: Callable[[dict[str, Any] | None], bool],
) -> list[int]:
    """The tickets the report on [start, end) can be about, found without running their clocks.

    Kept: the week's tickets; tickets still open (risks, exposure, breaches); tickets of the
    two months before the week still unrestored when it began (breaches in the week); and,
    for the year's indemnities, tickets possibly GTR-eligible (a stored verdict that
    ``gtr_possible`` accepts, a person's decision, or a verdict from rules other than
    ``fingerprint``) that took at least 3 days to restore — 72 business hours cannot pass
    sooner. Each test can only keep too much, never too little.
    """
    t, overrides = table_of(Ticket), table_of(ClassificationOverride)
    january = datetime(start.year, 1, 1, tzinfo=start.tzinfo)
    restoration = func.coalesce(t.c.resolved_at, t.c.closed_at)
    is_open = or_(t.c.status.not_in(restored_statuses), restoration.is_(None))
    for_the_week = or_(
        t.c.created_at >= start,
        is_open,
        and_(t.c.created_at >= start - BREACH_MARGIN, restoration >= start),
    )
    with engine.connect() as connection:
        took_three_days = (
            _days_between(connection, restoration, t.c.created_at) >= MIN_GTR_OVERRUN.days
        )
        for_indemnities = and_(t.c.updated_at >= january, took_three_days)
        query = select(t.c.id, for_the_week.label("for_the_week"), t.c.rule_fingerprint).where(
            ~t.c.deleted,
            ~t.c.spam,
            ~t.c.gone,
            t.c.created_at < end,
            or_(for_the_week, for_indemnities),
        )
        decided = set(connection.execute(select(overrides.c.ticket_id).distinct()).scalars().all())
        chosen, to_check = [], []
        for ticket_id, week_related, rules in connection.execute(query).all():
            if week_related or ticket_id in decided or rules != fingerprint:
                chosen.append(ticket_id)
            else:
                to_check.append(ticket_id)
        for part in (to_check[i : i + 5000] for i in range(0, len(to_check), 5000)):
            columns = [t.c.id, t.c.rule_verdict]
            found = fetch_rows(connection, columns, t.c.id.in_(part), order_by=[t.c.id])
            chosen += [ticket_id for ticket_id, verdict in found if gtr_possible(verdict)]
    return sorted(chosen)


def _days_between(connection: Connection, later: Any, earlier: Any) -> Any:
    """``later - earlier`` in days, as SQL (the databases differ in date arithmetic)."""
    if connection.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier) / 86400
    return func.julianday(later) - func.julianday(earlier)


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

"""What the service, ``status`` and the weekly report read of the sync runs (the sync
records them through ``storage/sync_state.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sla_tracker.storage.tables import SyncRun, table_of

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

RUNS = table_of(SyncRun)


def last_sync_run(engine: Engine) -> dict[str, Any] | None:
    """The latest sync run (finished or not), or None before the first."""
    with engine.connect() as connection:
        row = (
            connection.execute(select(RUNS).order_by(RUNS.c.id.desc()).limit(1)).mappings().first()
        )
    return None if row is None else dict(row)


@dataclass(frozen=True)
class RunOutcome:
    outcome: str  # running | ok | failed
    started_at: datetime
    errors: str | None


def sync_runs_between(engine: Engine, start: datetime, end: datetime) -> list[RunOutcome]:
    """The runs started in [start, end), oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(RUNS.c.outcome, RUNS.c.started_at, RUNS.c.errors)
            .where(RUNS.c.started_at >= start, RUNS.c.started_at < end)
            .order_by(RUNS.c.started_at)
        ).all()
    return [RunOutcome(*row) for row in rows]


def synced_before(engine: Engine, instant: datetime) -> bool:
    """Whether any sync started before ``instant`` (the database was in use then)."""
    with engine.connect() as connection:
        found = connection.execute(select(RUNS.c.id).where(RUNS.c.started_at < instant).limit(1))
        return found.first() is not None

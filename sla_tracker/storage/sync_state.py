"""The sync's bookkeeping: each pass's watermark and last run, the runs themselves, and the
quarantine of records that could not be stored."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, select, update

from sla_tracker.storage.tables import QuarantinedRecord, SyncRun, SyncState, table_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from sqlalchemy import Connection, Engine

    from sla_tracker.helpdesk import Rejected

STATE_TABLE = table_of(SyncState)
RUN_TABLE = table_of(SyncRun)
QUARANTINE_TABLE = table_of(QuarantinedRecord)


def watermark(engine: Engine, pass_name: str) -> datetime | None:
    with engine.connect() as connection:
        query = select(STATE_TABLE.c.watermark).where(STATE_TABLE.c.pass_name == pass_name)
        return cast("datetime | None", connection.execute(query).scalar())


def last_runs(engine: Engine) -> dict[str, datetime | None]:
    with engine.connect() as connection:
        rows = connection.execute(select(STATE_TABLE.c.pass_name, STATE_TABLE.c.last_run_at))
        return {name: last for name, last in rows}


def set_state(
    connection: Connection,
    pass_name: str,
    *,
    watermark: datetime | None = None,
    last_run_at: datetime | None = None,
) -> None:
    """Record a pass's progress; a watermark only ever moves forward."""
    table = STATE_TABLE
    where = table.c.pass_name == pass_name
    current = connection.execute(select(table).where(where)).mappings().first()
    values: dict[str, Any] = {}
    if watermark is not None and not (
        current and current["watermark"] and current["watermark"] >= watermark
    ):
        values["watermark"] = watermark
    if last_run_at is not None:
        values["last_run_at"] = last_run_at
    if current is None:
        connection.execute(
            table.insert(),
            [{"pass_name": pass_name, "watermark": None, "last_run_at": None, **values}],
        )
    elif values:
        connection.execute(update(table).where(where).values(**values))


def mark_run(engine: Engine, pass_name: str, now: datetime) -> None:
    with engine.begin() as connection:
        set_state(connection, pass_name, last_run_at=now)


def start_run(engine: Engine, mode: str, now: datetime) -> int:
    with engine.begin() as connection:
        insert = RUN_TABLE.insert().values(mode=mode, started_at=now, outcome="running")
        key = connection.execute(insert).inserted_primary_key
        return int(cast("tuple[int]", key)[0])  # a single-row insert always reports its key


def finish_run(
    engine: Engine,
    run_id: int,
    *,
    finished_at: datetime,
    outcome: str,
    errors: str | None,
    counts: Mapping[str, int],
) -> None:
    """Record how a run ended; ``counts`` are ``sync_run`` columns (pages, api_calls…)."""
    with engine.begin() as connection:
        connection.execute(
            update(RUN_TABLE)
            .where(RUN_TABLE.c.id == run_id)
            .values(finished_at=finished_at, outcome=outcome, errors=errors, **counts)
        )


# -- quarantine ----------------------------------------------------------------------------


def quarantine(
    connection: Connection,
    kind: str,
    rejected: Sequence[Rejected],
    *,
    now: datetime,
    stored: set[int],
) -> None:
    """Keep each rejected record with its reason (one row per record, attempts counted), and
    resolve the quarantine of records whose valid version was just stored."""
    table = QUARANTINE_TABLE
    if stored:
        connection.execute(
            update(table)
            .where(
                table.c.kind == kind,
                table.c.record_key.in_([str(record_id) for record_id in stored]),
                table.c.resolved_at.is_(None),
            )
            .values(resolved_at=now)
        )
    for bad in rejected:
        raw = json.dumps(bad.record, sort_keys=True, default=str)
        key = (
            str(bad.record_id)
            if bad.record_id is not None
            else hashlib.sha256(raw.encode()).hexdigest()[:24]
        )
        where = (table.c.kind == kind) & (table.c.record_key == key)
        again = {"raw": raw, "reason": bad.reason, "last_seen_at": now, "resolved_at": None}
        found = connection.execute(
            update(table).where(where).values(attempts=table.c.attempts + 1, **again)
        )
        if not found.rowcount:
            ticket_id = bad.record_id if kind == "ticket" else None  # re-read by id
            connection.execute(table.insert().values(
                kind=kind, record_key=key, ticket_id=ticket_id, raw=raw, reason=bad.reason,
                first_seen_at=now, last_seen_at=now, attempts=1,
            ))  # fmt: skip


def quarantined_records(engine: Engine, *, limit: int = 5) -> tuple[int, list[str]]:
    """How many records wait in quarantine, and the reasons of the latest few."""
    table = QUARANTINE_TABLE
    waiting = table.c.resolved_at.is_(None)
    with engine.connect() as connection:
        count = int(connection.execute(select(func.count()).where(waiting)).scalar() or 0)
        latest = select(table.c.reason).where(waiting).order_by(table.c.last_seen_at.desc())
        reasons = list(connection.execute(latest.limit(limit)).scalars())
    return count, reasons


def quarantined_ticket_ids(engine: Engine, *, limit: int) -> list[int]:
    """Quarantined tickets worth reading again by id, longest waiting first."""
    table = QUARANTINE_TABLE
    query = (
        select(table.c.ticket_id)
        .where(table.c.kind == "ticket", table.c.resolved_at.is_(None))
        .where(table.c.ticket_id.is_not(None))
        .order_by(table.c.last_seen_at)
        .limit(limit)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def still_quarantined(engine: Engine, *, seen_at: datetime) -> int:
    """Records seen bad at ``seen_at`` (this run) and not resolved since."""
    table = QUARANTINE_TABLE
    query = select(func.count()).where(
        table.c.last_seen_at == seen_at, table.c.resolved_at.is_(None)
    )
    with engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)

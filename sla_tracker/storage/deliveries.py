"""The delivery intents' rows: a key recorded once, failures counted, sent marked.

Each step is its own transaction, so a process killed between them leaves a row that the
next run sends again under the key it already recorded (``delivery.intents.deliver``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from sla_tracker.storage.alerts import EVENTS
from sla_tracker.storage.reports import RUNS

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine, Table


@dataclass(frozen=True)
class Outbox:
    """One channel's rows: where its key and its confirmation are recorded."""

    table: Table
    key_column: str
    sent_column: str


ALERT_EMAILS = Outbox(EVENTS, "email_message_id", "email_sent_at")
ALERT_WEBHOOKS = Outbox(EVENTS, "webhook_key", "webhook_sent_at")
WEEKLY_REPORTS = Outbox(RUNS, "message_id", "sent_at")


def claim_key(engine: Engine, outbox: Outbox, row_id: int, new_key: str) -> str:
    """The row's recorded key, recording ``new_key`` first if it has none."""
    table, column = outbox.table, outbox.table.c[outbox.key_column]
    with engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id == row_id, column.is_(None))
            .values({outbox.key_column: new_key})
        )
        return str(connection.execute(select(column).where(table.c.id == row_id)).scalar_one())


def count_failure(engine: Engine, outbox: Outbox, row_id: int, error: str) -> None:
    """One more failed try, with its reason (its first 500 characters)."""
    table = outbox.table
    with engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(attempts=table.c.attempts + 1, last_error=error[:500])
        )


def mark_sent(engine: Engine, outbox: Outbox, row_id: int, now: datetime) -> None:
    """The receiver accepted the row's message: it is never sent again."""
    table = outbox.table
    with engine.begin() as connection:
        connection.execute(
            update(table).where(table.c.id == row_id).values({outbox.sent_column: now})
        )

"""Delivery at least once, and never as two different messages.

An alert's e-mail and webhook and the weekly report are rows recorded before anything is
sent. The first try records the row's key (an e-mail's Message-ID, a webhook's idempotency
key); the row is marked sent only once the receiver accepted it. A process killed between
the two leaves the row unsent, so the next run sends it again with the same key: the
receiver may see it twice and can drop the copy, but it is never lost and never sent under
a new key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select, update

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sqlalchemy import Engine, Table


def deliver(
    engine: Engine,
    table: Table,
    row_id: int,
    *,
    key_column: str,
    sent_column: str,
    new_key: Callable[[], str],
    send: Callable[[str], None],
    now: datetime,
) -> str:
    """Send row ``row_id`` under its recorded key (recorded now if it has none); returns the key.

    A failure is counted on the row (``attempts``, ``last_error``) and raised again.
    """
    with engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id == row_id, table.c[key_column].is_(None))
            .values({key_column: new_key()})
        )
        key = str(
            connection.execute(select(table.c[key_column]).where(table.c.id == row_id)).scalar_one()
        )
    try:
        send(key)
    except Exception as error:
        with engine.begin() as connection:
            connection.execute(
                update(table)
                .where(table.c.id == row_id)
                .values(attempts=table.c.attempts + 1, last_error=str(error)[:500])
            )
        raise
    with engine.begin() as connection:
        connection.execute(update(table).where(table.c.id == row_id).values({sent_column: now}))
    return key

"""Transactions and the bulk writes shared by the query modules: plain inserts,
insert-or-ignore and upsert, with the dialect switch (SQLite or PostgreSQL
``insert … on conflict``) written once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection as Connection  # re-exported: a transaction's handle
from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from contextlib import AbstractContextManager

    from sqlalchemy import Engine, Table


def insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(table.insert(), rows)


def insert_new(
    connection: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    unique: Sequence[str] | None = None,
) -> int:
    """Insert the rows whose unique key (``unique``, else any) is not stored yet: a fact
    seen twice is one fact. Returns how many were new."""
    if not rows:
        return 0
    statement = _insert(connection, table).on_conflict_do_nothing(index_elements=unique)
    if connection.dialect.name == "postgresql":  # psycopg's executemany reports rowcount -1
        returning = statement.returning(*table.primary_key.columns)
        return len(connection.execute(returning, rows).all())
    return int(connection.execute(statement, rows).rowcount or 0)


def upsert(
    connection: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    keep: Iterable[str] = (),
    keep_if_null: Iterable[str] = (),
) -> None:
    """Insert or update by primary key, as one executemany with a cached statement.

    ``keep`` columns are never overwritten; ``keep_if_null`` ones only by a non-null value.
    """
    if not rows:
        return
    statement = _insert(connection, table)
    key_columns = [column.name for column in table.primary_key.columns]
    updated = sorted(set(rows[0]) - {*key_columns, *keep})
    nullable_kept = set(keep_if_null)
    statement = statement.on_conflict_do_update(
        index_elements=key_columns,
        set_={
            name: func.coalesce(statement.excluded[name], table.c[name])
            if name in nullable_kept
            else statement.excluded[name]
            for name in updated
        },
    )
    connection.execute(statement, rows)


def _insert(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def transaction(engine: Engine) -> AbstractContextManager[Connection]:
    """One transaction: what is written inside commits together, or not at all."""
    return engine.begin()

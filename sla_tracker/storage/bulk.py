"""Bulk reads for the hot paths: rows converted in one tight pass, not per value."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy import Connection

from sla_tracker.storage.tables import UTCDateTime


def fetch_rows(
    connection: Connection, columns: Sequence[Column[Any]], *criteria: Any, order_by: Sequence[Any]
) -> list[list[Any]]:
    """Rows of ``columns`` with instants (aware UTC), JSON and booleans converted here.

    The clock engine reads every ticket and transition: SQLAlchemy's per-value type
    processing cost about three times the query itself, so the bulk reads skip it and
    convert in one tight pass. Raw values differ by driver (SQLite gives text, psycopg
    gives objects); both are handled.
    """
    raw = [type_coerce(column, NullType()).label(column.name) for column in columns]
    result = connection.execute(select(*raw).where(*criteria).order_by(*order_by)).all()
    converters = [
        (index, converter)
        for index, column in enumerate(columns)
        if (converter := _RAW_CONVERTERS.get(type(column.type))) is not None
    ]
    rows = []
    for values in result:
        row = list(values)
        for index, convert in converters:
            if row[index] is not None:
                row[index] = convert(row[index])
        rows.append(row)
    return rows


def _instant_from_db(value: str | datetime) -> datetime:
    return (datetime.fromisoformat(value) if isinstance(value, str) else value).replace(tzinfo=UTC)


def _json_from_db(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


_RAW_CONVERTERS: dict[type[Any], Callable[[Any], Any]] = {
    UTCDateTime: _instant_from_db,
    JSON: _json_from_db,
    Boolean: bool,
}

"""The help desk's groups and agents, by id: the names people read instead of ``group_id``
and ``responder_id``. The sync writes them (reference data, refreshed now and then); reports,
the board and the CLI read them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sla_tracker.storage.tables import HelpdeskAgent, HelpdeskGroup, table_of
from sla_tracker.storage.writes import upsert

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection, Table

GROUP_TABLE = table_of(HelpdeskGroup)
AGENT_TABLE = table_of(HelpdeskAgent)


def group_names(connection: Connection) -> dict[int, str]:
    """Every known group's name by id (a group no longer listed keeps its last name)."""
    return _names(connection, GROUP_TABLE)


def agent_names(connection: Connection) -> dict[int, str]:
    """Every known agent's name by id, the id a ticket's ``responder_id`` holds."""
    return _names(connection, AGENT_TABLE)


def store_directory(
    connection: Connection,
    *,
    groups: list[dict[str, Any]],
    agents: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Insert or update the listed groups and agents; those not listed are kept as they were."""
    for table, rows in ((GROUP_TABLE, groups), (AGENT_TABLE, agents)):
        upsert(connection, table, [{**row, "fetched_at": now} for row in rows])


def _names(connection: Connection, table: Table) -> dict[int, str]:
    return {row_id: name for row_id, name in connection.execute(select(table.c.id, table.c.name))}

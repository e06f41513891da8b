"""Contract versions and closed periods, both append-only (SPEC §5): a fee change is a new
version, a closed period's amount is frozen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sla_tracker.storage.tables import ClosedPeriod, ContractVersion, table_of
from sla_tracker.storage.writes import insert

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from sqlalchemy import Engine

VERSIONS = table_of(ContractVersion)
CLOSED = table_of(ClosedPeriod)


def contract_versions(engine: Engine) -> list[dict[str, Any]]:
    """Every contract version, in the order recorded."""
    with engine.connect() as connection:
        query = select(VERSIONS).order_by(VERSIONS.c.id)
        return [dict(row) for row in connection.execute(query).mappings()]


def add_contract_versions(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """All or nothing, in one transaction."""
    with engine.begin() as connection:
        insert(connection, VERSIONS, rows)


def closed_periods(engine: Engine) -> list[tuple[int, datetime, Decimal]]:
    """Each closed period's company, start and frozen amount, in the order closed."""
    query = select(CLOSED.c.company_id, CLOSED.c.period_start, CLOSED.c.amount)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(CLOSED.c.id)).all()
    return [(company_id, start, amount) for company_id, start, amount in rows]


def add_closed_periods(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        insert(connection, CLOSED, rows)

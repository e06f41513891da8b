"""Companies as the help desk last described them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sla_tracker.storage.tables import Company, table_of

if TYPE_CHECKING:
    from sqlalchemy import Engine


def company_custom_fields(engine: Engine) -> list[tuple[int, dict[str, Any] | None]]:
    """Every company's id and custom fields (where the demo finds its contract terms)."""
    companies = table_of(Company)
    with engine.connect() as connection:
        rows = connection.execute(select(companies.c.id, companies.c.custom_fields)).all()
    return [(company_id, fields) for company_id, fields in rows]

"""Reads for the audit trail and the labels people read: every decision on a ticket as
recorded (never only the latest), and the help desk's status names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from sla_tracker.storage.tables import (
    ClassificationOverride,
    ExclusionRecord,
    TicketField,
    table_of,
)

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine

OVERRIDES = table_of(ClassificationOverride)
EXCLUSIONS = table_of(ExclusionRecord)
FIELDS = table_of(TicketField)


def decision_rows(
    engine: Engine, ticket_id: int, *, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A ticket's classification overrides and exclusion records known by ``now``, each in
    the order recorded."""
    overrides = (
        select(OVERRIDES)
        .where(OVERRIDES.c.ticket_id == ticket_id, OVERRIDES.c.at <= now)
        .order_by(OVERRIDES.c.at, OVERRIDES.c.id)
    )
    exclusions = (
        select(EXCLUSIONS)
        .where(EXCLUSIONS.c.ticket_id == ticket_id, EXCLUSIONS.c.at <= now)
        .order_by(EXCLUSIONS.c.at, EXCLUSIONS.c.id)
    )
    with engine.connect() as connection:
        return (
            [dict(row) for row in connection.execute(overrides).mappings()],
            [dict(row) for row in connection.execute(exclusions).mappings()],
        )


def status_names(engine: Engine) -> dict[int, str]:
    """The agent-facing name of each status id, custom statuses included, from the cached
    ticket fields (Freshdesk's status ``choices`` map ``"<id>": [agent_label, customer_label]``)."""
    with engine.connect() as connection:
        choices = connection.execute(
            select(FIELDS.c.choices).where(FIELDS.c.name == "status").limit(1)
        ).scalar()
    if not isinstance(choices, dict):
        return {}
    return {
        int(key): str(labels[0])
        for key, labels in choices.items()
        if str(key).isdigit() and isinstance(labels, list) and labels and labels[0]
    }

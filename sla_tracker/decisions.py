"""A support manager's decisions, recorded append-only with author, time and reason (SPEC §3, C11).

A person's classification beats every rule; an exclusion takes a ticket (or an interval of
it) out of the clocks. Nothing is ever updated or deleted: a new row supersedes an old one,
so the history of who decided what, when and why stays complete.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from sla_tracker.storage.tables import ClassificationOverride, ExclusionRecord, Ticket, table_of

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Connection, Engine

# C11: the causes for which the provider is not answerable.
EXCLUSION_REASONS = (
    "customer_refused_collaboration",
    "non_conforming_use",
    "unauthorised_modification",
    "customer_breach",
    "incompatible_software",
    "network_failure",
    "sabotage",
    "force_majeure",
)


class DecisionError(Exception):
    """A decision that cannot be recorded as given; the message says why."""


def record_classification(
    engine: Engine,
    ticket_id: int,
    values: dict[str, str | bool],
    *,
    by: str,
    reason: str,
    now: datetime,
) -> None:
    """Record one person's decision on each given dimension."""
    if not values:
        raise DecisionError(
            "nothing to record: give --severity, --gtr-object, --external/--no-external or "
            "--non-standard/--standard"
        )
    if not reason.strip():
        raise DecisionError("a classification needs a reason (--reason)")
    rows = [
        {
            "ticket_id": ticket_id,
            "dimension": dimension,
            "value": str(value).lower() if isinstance(value, bool) else value,
            "by": by,
            "at": now,
            "reason": reason.strip(),
        }
        for dimension, value in values.items()
    ]
    with engine.begin() as connection:
        _require_ticket(connection, ticket_id)
        connection.execute(table_of(ClassificationOverride).insert(), rows)


def record_exclusion(
    engine: Engine,
    ticket_id: int,
    *,
    reason: str,
    note: str,
    by: str,
    now: datetime,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> None:
    """C11: exclude the whole ticket, or only ``[starts_at, ends_at)``."""
    if reason not in EXCLUSION_REASONS:
        raise DecisionError(
            f"unknown exclusion reason {reason!r}; use one of {', '.join(EXCLUSION_REASONS)}"
        )
    if not note.strip():
        raise DecisionError("an exclusion needs a note saying what happened (--note)")
    if (starts_at is None) != (ends_at is None):
        raise DecisionError("give both --from and --to to exclude an interval, or neither")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise DecisionError("--to must be after --from")
    row = {
        "ticket_id": ticket_id,
        "action": "exclude",
        "reason": reason,
        "note": note.strip(),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "by": by,
        "at": now,
    }
    with engine.begin() as connection:
        _require_ticket(connection, ticket_id)
        connection.execute(table_of(ExclusionRecord).insert(), [row])


def revoke_exclusions(
    engine: Engine, ticket_id: int, *, reason: str, by: str, now: datetime
) -> None:
    """Lift every exclusion of a ticket; the exclusions themselves stay on record."""
    if not reason.strip():
        raise DecisionError("lifting an exclusion needs a reason (--reason)")
    table = table_of(ExclusionRecord)
    with engine.begin() as connection:
        _require_ticket(connection, ticket_id)
        last = connection.execute(
            select(table.c.action)
            .where(table.c.ticket_id == ticket_id)
            .order_by(table.c.at.desc(), table.c.id.desc())
        ).first()
        if last is None or last[0] != "exclude":
            raise DecisionError(f"ticket {ticket_id} has no exclusion to lift")
        connection.execute(
            table.insert(),
            [{"ticket_id": ticket_id, "action": "revoke", "reason": reason.strip(), "note": None,
              "starts_at": None, "ends_at": None, "by": by, "at": now}],
        )  # fmt: skip


def _require_ticket(connection: Connection, ticket_id: int) -> None:
    tickets = table_of(Ticket)
    found = connection.execute(select(func.count()).where(tickets.c.id == ticket_id)).scalar()
    if not found:
        raise DecisionError(
            f"no ticket {ticket_id} in the database: check the id, or run `sla-tracker sync` first"
        )

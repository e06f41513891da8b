"""A support manager's decisions, recorded append-only with author, time and reason (SPEC §3, C11).

A person's classification beats every rule; an exclusion takes a ticket (or an interval of
it) out of the clocks. Nothing is ever updated or deleted: a new row supersedes an old one,
so the history of who decided what, when and why stays complete.

The store is imported by the functions that write: the CLI reads ``EXCLUSION_REASONS`` for
its options without loading the database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from sla_tracker.storage.engine import Engine
    from sla_tracker.storage.writes import Connection

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


@dataclass(frozen=True)
class DecisionRecord:
    """One entry of a ticket's audit trail as recorded, and whether a later one replaced it
    (a newer classification of the same dimension; a revocation after an exclusion)."""

    kind: str  # classification | exclusion | revocation
    by: str
    at: datetime
    reason: str  # a classification's why; an exclusion's C11 cause; a revocation's why
    superseded: bool
    dimension: str | None = None
    value: str | None = None
    note: str | None = None  # an exclusion's account of what happened
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def decision_trail(engine: Engine, ticket_id: int, *, now: datetime) -> list[DecisionRecord]:
    """Every classification, exclusion and revocation of a ticket known by ``now``, oldest
    first: the latest decision alone would hide who decided before and why."""
    from sla_tracker.storage.audit import decision_rows

    overrides, exclusions = decision_rows(engine, ticket_id, now=now)
    latest = {row["dimension"]: index for index, row in enumerate(overrides)}
    records = [
        DecisionRecord("classification", row["by"], row["at"], row["reason"],
                       superseded=latest[row["dimension"]] != index,
                       dimension=row["dimension"], value=row["value"])
        for index, row in enumerate(overrides)
    ]  # fmt: skip
    revoked_before = max(
        (index for index, row in enumerate(exclusions) if row["action"] == "revoke"), default=-1
    )
    records += [
        DecisionRecord("revocation" if row["action"] == "revoke" else "exclusion", row["by"],
                       row["at"], row["reason"],
                       superseded=row["action"] == "exclude" and index < revoked_before,
                       note=row["note"], starts_at=row["starts_at"], ends_at=row["ends_at"])
        for index, row in enumerate(exclusions)
    ]  # fmt: skip
    return sorted(records, key=lambda record: record.at)


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
    from sla_tracker.storage.decisions import add_overrides
    from sla_tracker.storage.writes import transaction

    with transaction(engine) as connection:
        _require_ticket(connection, ticket_id)
        add_overrides(connection, rows)


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
    from sla_tracker.storage.decisions import add_exclusion_records
    from sla_tracker.storage.writes import transaction

    with transaction(engine) as connection:
        _require_ticket(connection, ticket_id)
        add_exclusion_records(connection, [row])


def revoke_exclusions(
    engine: Engine, ticket_id: int, *, reason: str, by: str, now: datetime
) -> None:
    """Lift every exclusion of a ticket; the exclusions themselves stay on record."""
    if not reason.strip():
        raise DecisionError("lifting an exclusion needs a reason (--reason)")
    from sla_tracker.storage.decisions import add_exclusion_records, last_exclusion_action
    from sla_tracker.storage.writes import transaction

    with transaction(engine) as connection:
        _require_ticket(connection, ticket_id)
        if last_exclusion_action(connection, ticket_id) != "exclude":
            raise DecisionError(f"ticket {ticket_id} has no exclusion to lift")
        add_exclusion_records(
            connection,
            [{"ticket_id": ticket_id, "action": "revoke", "reason": reason.strip(), "note": None,
              "starts_at": None, "ends_at": None, "by": by, "at": now}],
        )  # fmt: skip


def _require_ticket(connection: Connection, ticket_id: int) -> None:
    from sla_tracker.storage.decisions import ticket_exists

    if not ticket_exists(connection, ticket_id):
        raise DecisionError(
            f"no ticket {ticket_id} in the database: check the id, or run `sla-tracker sync` first"
        )

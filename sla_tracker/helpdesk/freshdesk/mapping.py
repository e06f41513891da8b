"""Freshdesk API records → store rows: parsing at the boundary, with errors that name the
record and the field, and the comparison that says what a poll changed."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sla_tracker.core.instants import parse_instant
from sla_tracker.core.timeline import Milestone, StatusFacts
from sla_tracker.helpdesk import MappedRecords, Rejected
from sla_tracker.helpdesk.freshdesk.vocabulary import MILESTONES, OPEN
from sla_tracker.storage.tables import BIGINT

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

STAT_FIELDS = (
    "first_responded_at",
    "agent_responded_at",
    "requester_responded_at",
    "status_updated_at",
    "pending_since",
    "reopened_at",
    "resolved_at",
    "closed_at",
)
INSTANT_FIELDS = ("created_at", "updated_at", "due_by", "fr_due_by", "nr_due_by")
ID_FIELDS = ("requester_id", "responder_id", "group_id", "company_id", "product_id")
# Fields whose change a poll records in the change log (raw and bookkeeping excluded).
TRACKED_FIELDS = (
    "subject",
    "status",
    "priority",
    "source",
    "type",
    "tags",
    "custom_fields",
    *ID_FIELDS,
    *INSTANT_FIELDS[2:],
    "is_escalated",
    "fr_escalated",
    "nr_escalated",
    *STAT_FIELDS,
    "spam",
    "deleted",
    "gone",
)


class RecordError(ValueError):
    """A Freshdesk record that cannot be stored as it is; names the record and field."""


FIRST_YEAR, LAST_YEAR = 1970, 2999  # what a help desk can mean; the calendar needs ≤ 2999


def instant(record: Mapping[str, Any], key: str, what: str) -> datetime | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what}: {key} = {value!r} is not an ISO 8601 instant")
    try:
        parsed = parse_instant(value)
    except ValueError as error:
        raise RecordError(f"{what}: {key}: {error}") from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise RecordError(
            f"{what}: {key} = {value!r} is outside {FIRST_YEAR}–{LAST_YEAR}: not a real instant"
        )
    return parsed


def _integer(record: Mapping[str, Any], key: str, what: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -BIGINT <= value < BIGINT:
        raise RecordError(f"{what}: {key} = {value!r} is not a 64-bit integer")
    return value


def ticket_row(record: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """The ``ticket`` columns for one API ticket (without our flags and first/last seen)."""
    ticket_id = record_id(record)
    if ticket_id is None:
        raise RecordError(f"a ticket without a usable id: {str(record)[:80]}")
    what = f"ticket {ticket_id}"
    stats = _typed(record, "stats", dict, what) or {}
    tags = _typed(record, "tags", list, what) or []
    if not all(isinstance(tag, str) for tag in tags):
        raise RecordError(f"{what}: tags = {tags!r} is not a list of texts")
    row: dict[str, Any] = {
        "id": ticket_id,
        "subject": _typed(record, "subject", str, what),
        "status": _integer(record, "status", what),
        "priority": _integer(record, "priority", what),
        "source": _integer(record, "source", what),
        "type": _typed(record, "type", str, what),
        "tags": list(tags),
        "custom_fields": dict(_typed(record, "custom_fields", dict, what) or {}),
        "is_escalated": bool(record.get("is_escalated")),
        "fr_escalated": bool(record.get("fr_escalated")),
        "nr_escalated": bool(record.get("nr_escalated")),
        "spam": bool(record.get("spam")),
        "deleted": bool(record.get("deleted")),
        "raw": dict(record),
        "last_seen_at": now,
    }
    if row["status"] is None:
        raise RecordError(f"{what}: status is missing")
    # None when the list call did not include descriptions: the upsert keeps the stored one.
    row["description_text"] = _typed(record, "description_text", str, what)
    for key in ID_FIELDS:
        row[key] = _integer(record, key, what)
    for key in INSTANT_FIELDS:
        row[key] = instant(record, key, what)
    for key in STAT_FIELDS:
        row[key] = instant(stats, key, f"{what} stats")
    if row["created_at"] is None or row["updated_at"] is None:
        raise RecordError(f"{what}: created_at and updated_at are required")
    return row


def ticket_rows(records: Sequence[Mapping[str, Any]], *, now: datetime) -> MappedRecords:
    """Each record as a ``ticket`` row, or rejected with the reason it cannot be stored."""
    mapped = MappedRecords()
    for record in records:
        try:
            mapped.rows.append(ticket_row(record, now=now))
        except RecordError as error:
            mapped.rejected.append(
                Rejected(record, str(error), record_id(record), updated_at(record))
            )
    return mapped


def updated_at(record: Mapping[str, Any]) -> datetime | None:
    """A record's ``updated_at`` for paging and the watermark; None when unreadable (the
    record itself is quarantined, the scan goes on)."""
    try:
        return instant(record, "updated_at", f"ticket {record.get('id')}")
    except RecordError:
        return None


def record_id(record: Mapping[str, Any]) -> int | None:
    """The record's id when it is a storable one (a 64-bit integer), else None."""
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < BIGINT:
        return None
    return value


def _typed(record: Mapping[str, Any], key: str, kind: type, what: str) -> Any:
    """A field that must be of one JSON type (or null): wrong types are refused, not coerced."""
    value = record.get(key)
    if value is not None and not isinstance(value, kind):
        expected = {"str": "a text", "list": "a list", "dict": "an object"}[kind.__name__]
        raise RecordError(f"{what}: {key} = {str(value)[:60]!r} is not {expected}")
    return value


def company_row(record: Mapping[str, Any]) -> dict[str, Any]:
    company_id = record.get("id")
    if isinstance(company_id, bool) or not isinstance(company_id, int):
        raise RecordError(f"a company without a numeric id: {str(record)[:80]}")
    what = f"company {company_id}"
    return {
        "id": company_id,
        "name": str(record.get("name") or ""),
        "domains": list(record.get("domains") or []),
        "custom_fields": dict(record.get("custom_fields") or {}),
        "account_tier": record.get("account_tier"),
        "created_at": instant(record, "created_at", what),
        "updated_at": instant(record, "updated_at", what),
        "raw": dict(record),
    }


def group_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A ``helpdesk_group`` row from ``GET /api/v2/groups``."""
    what = f"group {record.get('id')!r}"
    return {
        "id": _directory_id(record, "group"),
        "name": _name(record.get("name"), f"{what}: name"),
        "business_hour_id": _integer(record, "business_hour_id", what),
        "updated_at": instant(record, "updated_at", what),
    }


def agent_row(record: Mapping[str, Any]) -> dict[str, Any]:
    """A ``helpdesk_agent`` row from ``GET /api/v2/agents``: the person is under ``contact``."""
    what = f"agent {record.get('id')!r}"
    agent_id = _directory_id(record, "agent")
    contact = _typed(record, "contact", dict, what) or {}
    return {
        "id": agent_id,
        "name": _name(contact.get("name"), f"{what}: contact.name"),
        "email": _typed(contact, "email", str, f"{what} contact"),
        "active": contact.get("active") is not False,
        "updated_at": instant(record, "updated_at", what),
    }


def directory_rows(
    records: Iterable[Mapping[str, Any]], row: Callable[[Mapping[str, Any]], dict[str, Any]]
) -> MappedRecords:
    """Each group or agent record as a row, or rejected with the reason."""
    mapped = MappedRecords()
    for record in records:
        try:
            mapped.rows.append(row(record))
        except RecordError as error:
            mapped.rejected.append(Rejected(record, str(error), record_id(record), None))
    return mapped


def _directory_id(record: Mapping[str, Any], kind: str) -> int:
    found = record_id(record)
    if found is None:
        raise RecordError(f"a Freshdesk {kind} without a usable id: {str(record)[:80]}")
    return found


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{what} = {str(value)[:60]!r} is not a name")
    return value.strip()


def status_facts(row: Mapping[str, Any]) -> StatusFacts:
    """A poll's status facts in the timeline's neutral terms (Freshdesk opens tickets Open)."""
    return StatusFacts(
        status=row["status"],
        created_at=row["created_at"],
        status_updated_at=row.get("status_updated_at"),
        milestones=tuple(
            Milestone(row[key], status, f"stats.{key}")
            for key, status in MILESTONES
            if row.get(key) is not None
        ),
        opened_as=OPEN,
    )


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the tracked fields that differ, JSON-ready."""
    return {
        key: [jsonable(old.get(key)), jsonable(new.get(key))]
        for key in TRACKED_FIELDS
        if key in new and old.get(key) != new.get(key)
    }


def jsonable(value: Any) -> Any:
    """An instant as the change log writes it; other values as they are."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value

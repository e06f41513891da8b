"""The help-desk seam: what the sync needs from a help desk, whatever it is.

A help desk is reached through an adapter package beside this file (``freshdesk/`` today):
its client pages through tickets oldest update first, views one ticket, reads reference data
and customer replies, and maps its records to the store's rows and the timeline's status
facts. Only the composition roots (cli/, service/) import the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from datetime import datetime

    from sla_tracker.core.timeline import StatusFacts

Record = dict[str, Any]  # a help-desk record as received (decoded JSON)
Row = dict[str, Any]  # a record mapped to the store's columns


class HelpdeskError(Exception):
    """A help-desk call failed; the message names the endpoint and what to do."""


class HelpdeskNotFound(HelpdeskError):
    """The help desk does not know what was asked (a wrong URL, a ticket gone)."""


@dataclass
class CallCounter:
    api_calls: int = 0
    credits: int = 0


@dataclass(frozen=True)
class Rejected:
    """A record the store cannot keep as it is: quarantined with its reason."""

    record: Mapping[str, Any]
    reason: str
    record_id: int | None  # when usable: the quarantine's key (a ticket's is re-read by id)
    updated_at: datetime | None  # when readable: the watermark still moves past it


@dataclass
class MappedRecords:
    """A batch of records mapped to rows, beside those that could not be (quarantined)."""

    rows: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class HelpdeskClient(Protocol):
    """Exactly what ``sync.py`` asks of a help desk."""

    @property
    def counter(self) -> CallCounter: ...

    def ticket_pages(self, since: datetime, ticket_filter: str | None) -> Iterator[list[Record]]:
        """Tickets updated at or after ``since``, oldest update first, page by page; each
        page is stored before the next is asked for. ``ticket_filter``: deleted or spam."""
        ...

    def view_ticket(self, ticket_id: int) -> Record | None:
        """One ticket by id; None when the help desk no longer has it."""
        ...

    def customer_replies(self, ticket_id: int) -> list[datetime]:
        """When the customer answered publicly (none when the ticket is gone)."""
        ...

    def company_rows(self, updated_since: datetime | None) -> list[Row]: ...

    def ticket_field_rows(self) -> list[Row]: ...

    def group_rows(self) -> MappedRecords:
        """Every group's id and name (reference data: the list is read whole)."""
        ...

    def agent_rows(self) -> MappedRecords:
        """Every agent's id, name and email; none when the key may not list agents."""
        ...

    def ticket_rows(self, records: Sequence[Mapping[str, Any]], *, now: datetime) -> MappedRecords:
        """The ``ticket`` columns of each record (without the sync's flags), or why not."""
        ...

    def status_facts(self, row: Mapping[str, Any]) -> StatusFacts: ...

    def changed_fields(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        """``{field: [old, new]}`` for the fields the change log tracks, JSON-ready."""
        ...

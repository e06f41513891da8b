"""What makes a Freshdesk client a :class:`~sla_tracker.helpdesk.HelpdeskClient`: its paging
cursor, its records mapped to the store's rows, its status facts and its conversations read
for customer replies. Mixed into the client; it only needs the raw endpoints below."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sla_tracker.core.instants import format_instant
from sla_tracker.helpdesk import HelpdeskNotFound, MappedRecords
from sla_tracker.helpdesk.freshdesk import client as http  # a module: client.py imports us
from sla_tracker.helpdesk.freshdesk import mapping, paging
from sla_tracker.helpdesk.freshdesk.mapping import RecordError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime

    from sla_tracker.core.timeline import StatusFacts
    from sla_tracker.helpdesk import Record, Row
    from sla_tracker.helpdesk.freshdesk.client import Page

LOG = logging.getLogger("sla_tracker.helpdesk.freshdesk")


class FreshdeskAdapter:
    """The help-desk seam over Freshdesk's endpoints (which the client provides)."""

    page_size: int
    list_tickets: Callable[[dict[str, Any]], Page]
    iter_companies: Callable[[str | None], Iterable[Record]]
    ticket_fields: Callable[[], list[Record]]
    conversations: Callable[[int], list[Record]]
    iter_groups: Callable[[], Iterable[Record]]
    iter_agents: Callable[[], Iterable[Record]]

    def ticket_pages(self, since: datetime, ticket_filter: str | None) -> Iterator[list[Record]]:
        return paging.ticket_pages(self.list_tickets, self.page_size, since, ticket_filter)

    def customer_replies(self, ticket_id: int) -> list[datetime]:
        """Incoming public conversation entries; an unreadable one does not hide the others."""
        try:
            entries = self.conversations(ticket_id)
        except HelpdeskNotFound:
            return []
        found = []
        for entry in entries:
            if entry.get("incoming") is not True or entry.get("private") is True:
                continue
            try:
                at = mapping.instant(entry, "created_at", f"ticket {ticket_id} conversation")
            except RecordError:
                continue
            if at is not None:
                found.append(at)
        return found

    def company_rows(self, updated_since: datetime | None) -> list[Row]:
        since = format_instant(updated_since) if updated_since else None
        try:
            return [mapping.company_row(record) for record in self.iter_companies(since)]
        except RecordError as error:
            raise http.FreshdeskError(
                f"Freshdesk sent a company that cannot be stored: {error}"
            ) from None

    def ticket_field_rows(self) -> list[Row]:
        return [
            {
                "id": record["id"],
                "name": str(record.get("name")),
                "label": record.get("label"),
                "type": record.get("type"),
                "choices": record.get("choices"),
            }
            for record in self.ticket_fields()
            if isinstance(record.get("id"), int)
        ]

    def group_rows(self) -> MappedRecords:
        return mapping.directory_rows(self.iter_groups(), mapping.group_row)

    def agent_rows(self) -> MappedRecords:
        """Listing agents is for administrators only: a key without the right costs agent
        names (a warning), never the sync."""
        try:
            return mapping.directory_rows(list(self.iter_agents()), mapping.agent_row)
        except http.FreshdeskAuthError as error:
            if error.status_code != 403:
                raise
            LOG.warning("%s; agent names stay unknown until then", error)
            return MappedRecords()

    def ticket_rows(self, records: Sequence[Mapping[str, Any]], *, now: datetime) -> MappedRecords:
        return mapping.ticket_rows(records, now=now)

    def status_facts(self, row: Mapping[str, Any]) -> StatusFacts:
        return mapping.status_facts(row)

    def changed_fields(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
        return mapping.changed_fields(old, new)

"""Freshdesk's ticket list, paged without ever hitting its 300-page wall (freshdesk-api.md §10).

The list is asked oldest update first. After each full page the cursor moves to the last
``updated_at`` seen and the scan restarts at page 1, dropping the ids already handed out at
that exact second; only a whole page within one second pages on. Rows shifting between
pages therefore cannot lose a ticket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sla_tracker.core.instants import format_instant
from sla_tracker.helpdesk.freshdesk import client as http  # a module: client.py imports us
from sla_tracker.helpdesk.freshdesk.mapping import updated_at

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from datetime import datetime

    from sla_tracker.helpdesk.freshdesk.client import Page

LIST_INCLUDE = "stats,description"  # 5 credits a call; descriptions feed classification


def ticket_pages(
    list_tickets: Callable[[dict[str, Any]], Page],
    page_size: int,
    cursor: datetime,
    ticket_filter: str | None,
) -> Iterator[list[dict[str, Any]]]:
    """Each page's records not handed out before; the caller stores one before the next."""
    seen_at_cursor: set[Any] = set()
    page = 1
    while True:
        if page > http.MAX_PAGE:
            raise http.FreshdeskError(
                f"more than {http.MAX_PAGE * page_size:,} tickets share updated_at "
                f"{format_instant(cursor)}: Freshdesk cannot list past its page {http.MAX_PAGE}"
            )
        params: dict[str, Any] = {
            "updated_since": format_instant(cursor),
            "order_by": "updated_at",
            "order_type": "asc",
            "per_page": page_size,
            "include": LIST_INCLUDE,
        }
        if ticket_filter:
            params["filter"] = ticket_filter
        if page > 1:
            params["page"] = page
        try:
            result = list_tickets(params)
        except http.FreshdeskValidationError as error:
            if not error.is_page_limit or page == 1:
                raise
            page = http.MAX_PAGE + 1  # a server that counts pages differently: same dead end
            continue
        yield [
            record
            for record in result.records
            if not (record.get("id") in seen_at_cursor and updated_at(record) == cursor)
        ]
        if len(result.records) < page_size or not result.has_next:
            return
        last = updated_at(result.records[-1])
        if last is not None and last > cursor:
            cursor, page = last, 1
            seen_at_cursor = {r.get("id") for r in result.records if updated_at(r) == last}
        else:  # a whole page within one second: page on at that second
            seen_at_cursor |= {record.get("id") for record in result.records}
            page += 1

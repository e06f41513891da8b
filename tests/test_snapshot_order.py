"""Snapshots arrive late, twice, out of order and grouped at random: the store must not care.

Freshdesk gives snapshots, not events. The same set of ticket versions, delivered in any
order and any grouping into polls, must leave the same stored tickets, the same status
history and the same customer replies (issue 9, item 2; SPEC §4).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from sla_tracker.config import Settings
from sla_tracker.helpdesk.freshdesk.adapter import FreshdeskAdapter
from sla_tracker.helpdesk.freshdesk.client import Page
from sla_tracker.helpdesk.freshdesk.simulator.dataset import Dataset, SimTicket
from sla_tracker.helpdesk.freshdesk.simulator.server import SimulatorState, render_ticket
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.tables import (
    CustomerReply,
    StatusTransition,
    Ticket,
    table_of,
)
from sla_tracker.sync import sync_once
from tests.scenarios import empty_store

START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
SETTINGS = Settings.model_validate({"sync": {"start_date": "2026-01-01"}})
# Fields Freshdesk recomputes without a new updated_at (escalation flags, hence the raw
# record) follow the latest poll of that version, not the order.
BOOKKEEPING = {"first_seen_at", "last_seen_at", "is_escalated", "fr_escalated", "nr_escalated",
               "raw"}  # fmt: skip


class PagesClient(FreshdeskAdapter):
    """A Freshdesk stand-in that hands out prepared list pages, one per sync."""

    page_size = 100

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = list(pages)
        self.counter = SimpleNamespace(api_calls=0, credits=0)

    def list_tickets(self, params: dict[str, Any]) -> Page:
        if params.get("filter") or not self.pages:
            return Page([], has_next=False)
        return Page(self.pages.pop(0), has_next=False)

    def iter_companies(self, _since: str | None) -> list[dict[str, Any]]:
        return []

    def ticket_fields(self) -> list[dict[str, Any]]:
        return []

    def iter_groups(self) -> list[dict[str, Any]]:
        return []

    def iter_agents(self) -> list[dict[str, Any]]:
        return []

    def view_ticket(self, _ticket_id: int) -> dict[str, Any] | None:
        raise AssertionError("no reconciliation is due in these scenarios")

    def conversations(self, _ticket_id: int) -> list[dict[str, Any]]:
        return []


def _engine(name: str) -> Engine:
    folder = Path(tempfile.mkdtemp(prefix="sla-order-"))
    return open_store(f"sqlite:///{folder / name}")


ENGINES = (_engine("in-order.db"), _engine("shuffled.db"))


def _deliver(engine: Engine, polls: list[list[dict[str, Any]]]) -> None:
    empty_store(engine)
    client = PagesClient(polls)
    now = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    for _ in polls:
        sync_once(client, engine, SETTINGS, now=now)  # type: ignore[arg-type]
        now += timedelta(minutes=1)


def _stored(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        tickets = [
            {key: value for key, value in row.items() if key not in BOOKKEEPING}
            for row in connection.execute(select(table_of(Ticket))).mappings()
        ]
        t = table_of(StatusTransition)
        live = select(t.c.ticket_id, t.c.from_status, t.c.to_status, t.c.at, t.c.kind,
                      t.c.evidence).where(t.c.superseded_at.is_(None))  # fmt: skip
        r = table_of(CustomerReply)
        return {
            "tickets": sorted(tickets, key=lambda row: row["id"]),
            "transitions": sorted((tuple(row) for row in connection.execute(live)), key=repr),
            "replies": sorted(
                tuple(row) for row in connection.execute(select(r.c.ticket_id, r.c.at))
            ),
        }


minutes = st.integers(1, 4 * 24 * 60)
events = st.lists(
    st.tuples(
        minutes,
        st.sampled_from(["status", "agent_reply", "customer_reply"]),
        st.sampled_from([2, 3, 4, 5]),
    ),
    max_size=8,
)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """Snapshots of one to three tickets; the same set in time order and shuffled into polls."""
    state = SimulatorState(Dataset([], {}), int(START.timestamp()))
    snapshots: list[dict[str, Any]] = []
    for ticket_id in range(1, draw(st.integers(1, 3)) + 1):
        ticket = SimTicket(ticket_id, 1, 9, "Facture", "Facture", 4, 1, None, [], {}, 5,
                           int(START.timestamp()))  # fmt: skip
        for at, kind, value in draw(events):
            ticket.add_event(int(START.timestamp()) + at * 60, kind, value)
        for at in draw(st.lists(minutes, min_size=1, max_size=5, unique=True)):
            state.now = int(START.timestamp()) + at * 60
            snapshots.append(render_ticket(state, ticket, {"stats", "description"}))
    ordered = sorted(snapshots, key=lambda record: (record["updated_at"], record["id"]))
    shuffled = draw(st.permutations(snapshots))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(shuffled) - 1)), max_size=4)))
    bounds = [0, *[cut for cut in cuts if cut < len(shuffled)], len(shuffled)]
    polls = [list(shuffled[a:b]) for a, b in pairwise(bounds) if a < b]
    return ordered, polls


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_any_order_and_any_grouping_store_the_same_history(
    delivery: tuple[list[dict[str, Any]], list[list[dict[str, Any]]]],
) -> None:
    ordered, polls = delivery
    in_order, shuffled = ENGINES
    _deliver(in_order, [[snapshot] for snapshot in ordered])
    _deliver(shuffled, polls)
    assert _stored(shuffled) == _stored(in_order)


def test_a_ticket_twice_in_one_page_is_one_ticket_with_one_creation() -> None:
    state = SimulatorState(Dataset([], {}), int(START.timestamp()))
    tickets = [SimTicket(i, 1, 9, "Facture", "Facture", 4, 1, None, [], {}, 5,
                         int(START.timestamp())) for i in (1, 2, 3)]  # fmt: skip
    tickets[0].add_event(int(START.timestamp()) + 600, "status", 3)
    state.now = int(START.timestamp()) + 300
    page = [render_ticket(state, ticket, {"stats"}) for ticket in tickets]
    state.now += 600
    page.insert(1, render_ticket(state, tickets[0], {"stats"}))  # a newer copy, mid-page
    page.append(dict(page[2]))  # and an exact duplicate
    engine = ENGINES[0]
    empty_store(engine)
    client = PagesClient([page])
    report = sync_once(client, engine, SETTINGS, now=START + timedelta(days=1))  # type: ignore[arg-type]
    assert report.tickets_new == 3
    stored = _stored(engine)
    assert [ticket["id"] for ticket in stored["tickets"]] == [1, 2, 3]
    assert stored["tickets"][0]["status"] == 3
    creations = [t for t in stored["transitions"] if t[1] is None]
    assert sorted(t[0] for t in creations) == [1, 2, 3]

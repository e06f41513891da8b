"""The sync against the simulator over real HTTP: nothing missed or doubled, clear failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import responses
from sqlalchemy import Engine, func, select

from sla_tracker.config import ConfigError, Settings
from sla_tracker.helpdesk.freshdesk.client import (
    FreshdeskAuthError,
    FreshdeskClient,
    FreshdeskError,
)
from sla_tracker.helpdesk.freshdesk.simulator.server import (
    Fault,
    Simulator,
    SimulatorState,
    make_state,
)
from sla_tracker.storage.directory import agent_names, group_names
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.tables import (
    QuarantinedRecord,
    StatusTransition,
    SyncRun,
    SyncState,
    Ticket,
    table_of,
)
from sla_tracker.sync import SyncSummary, sync_once

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SETTINGS = Settings.model_validate({"sync": {"start_date": date(2026, 1, 1)}})


@dataclass
class Account:
    """A simulated Freshdesk account, a client to it and a store, with an injected sleep."""

    state: SimulatorState
    client: FreshdeskClient
    engine: Engine
    settings: Settings = SETTINGS
    sleeps: list[float] = field(default_factory=list)

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.state.now, UTC)

    def sync(self, **options: Any) -> SyncSummary:
        return sync_once(self.client, self.engine, self.settings, now=self.now, **options)

    def later(self, **delta: float) -> None:
        self.state.advance(int(timedelta(**delta).total_seconds()))

    def tickets(self) -> dict[int, dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(table_of(Ticket))).mappings()
            return {row["id"]: dict(row) for row in rows}

    def transitions(self, ticket_id: int) -> list[tuple[Any, ...]]:
        table = table_of(StatusTransition)
        query = select(table.c.from_status, table.c.to_status, table.c.at, table.c.kind).where(
            table.c.ticket_id == ticket_id
        )
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(query.order_by(table.c.id))]

    def list_requests(self) -> list[str]:
        return [path for path in self.state.requests if path.startswith("/api/v2/tickets?")]


@pytest.fixture
def make_account(tmp_path: Any) -> Iterator[Any]:
    simulators: list[Simulator] = []

    def build(tickets: int = 300, url: str | None = None, **state_options: Any) -> Account:
        state = make_state(seed=11, tickets=tickets, now=NOW, **state_options)
        simulator = Simulator(state).__enter__()
        simulators.append(simulator)
        sleeps: list[float] = []
        client = FreshdeskClient(simulator.url, "sim-key", max_retries=3, sleep=sleeps.append)
        engine = open_store(url or f"sqlite:///{tmp_path / 'sync.db'}")
        return Account(state, client, engine, sleeps=sleeps)

    yield build
    for simulator in simulators:
        simulator.__exit__(None, None, None)


def visible_ids(state: SimulatorState, *, deleted: bool = False) -> set[int]:
    return {
        ticket.id
        for ticket in state.dataset.tickets.values()
        if state.visible(ticket) and ticket.deleted == deleted
    }


def test_full_sync_stores_every_ticket_on_both_databases(make_account: Any, store_url: str) -> None:
    account = make_account(tickets=450, url=store_url)
    report = account.sync()
    stored = account.tickets()
    assert set(stored) == visible_ids(account.state)
    assert report.tickets_new == len(stored) and report.tickets_updated == 0
    assert report.passes == [
        "tickets",
        "deleted",
        "spam",
        "companies",
        "ticket_fields",
        "directory",
        "reconcile",
    ]
    sample = stored[min(stored)]
    assert sample["description_text"] and sample["status_updated_at"].tzinfo is UTC
    assert sample["raw"]["id"] == sample["id"]
    with account.engine.connect() as connection:
        run = connection.execute(select(table_of(SyncRun))).mappings().one()
    assert (run["outcome"], run["tickets_new"], run["api_calls"]) == (
        "ok",
        len(stored),
        report.api_calls,
    )
    assert report.credits == 5 * report.pages + 2 + report.api_calls - report.pages - 2


def test_a_lazily_generated_account_is_synced_whole(make_account: Any) -> None:
    account = make_account(tickets=700, lazy=True)  # how a million-ticket account is served
    account.client.page_size = 50
    account.sync()
    assert set(account.tickets()) == visible_ids(account.state)
    account.later(days=2)
    account.state.change(3, "status", 3)
    report = account.sync()
    assert report.tickets_updated > 1 and account.tickets()[3]["status"] == 3
    assert set(account.tickets()) == visible_ids(account.state)


def test_more_than_300_pages_are_synced_with_none_missing(make_account: Any) -> None:
    account = make_account(tickets=3_200)
    account.client.page_size = 10  # 320+ pages of 10: past Freshdesk's page-300 wall
    account.sync()
    assert set(account.tickets()) == visible_ids(account.state)
    pages = [
        int(path.split("page=")[1].split("&")[0])
        for path in account.list_requests()
        if "page=" in path
    ]
    assert max(pages, default=1) <= 300
    assert len(account.list_requests()) > 320


def test_many_tickets_in_one_second_are_paged_within_that_second(make_account: Any) -> None:
    account = make_account(tickets=400)
    account.sync()
    account.later(minutes=1)
    for ticket_id in range(1, 251):  # a bulk update: 250 tickets share one updated_at
        account.state.change(ticket_id, "touch")
    account.client.page_size = 100
    report = account.sync()
    assert report.tickets_updated == 0  # a touch changes nothing we track…
    stored = account.tickets()
    touched = account.now.replace(tzinfo=UTC)
    assert (
        sum(1 for row in stored.values() if row["last_seen_at"] == touched) >= 250
    )  # …but all were read


def test_tickets_updated_during_the_scan_are_not_lost(make_account: Any) -> None:
    account = make_account(tickets=600)
    first_page: list[int] = []

    def move_tickets(state: SimulatorState, path: str) -> None:
        if path.startswith("/api/v2/tickets?") and not first_page:
            first_page.extend(sorted(state.dataset.tickets)[:5])
            state.advance(1)
            for ticket_id in first_page:  # already read: they jump to the end of the order
                state.change(ticket_id, "status", 3)

    account.state.after_request.append(move_tickets)
    account.sync()
    stored = account.tickets()
    assert set(stored) == visible_ids(account.state)
    assert all(stored[ticket_id]["status"] == 3 for ticket_id in first_page)


def test_a_second_sync_with_nothing_changed_makes_one_call(make_account: Any) -> None:
    account = make_account()
    account.sync()
    before = len(account.state.requests)
    report = account.sync()
    assert report.api_calls == 1 and len(account.state.requests) - before == 1
    assert report.tickets_new == report.tickets_updated == 0


def test_100_changed_tickets_take_at_most_two_list_calls_and_no_view(make_account: Any) -> None:
    account = make_account(tickets=1_000)
    account.sync()
    account.later(hours=1)
    for ticket_id in range(1, 101):
        account.state.change(ticket_id, "customer_reply")
    before = len(account.state.requests)
    report = account.sync()
    new_requests = account.state.requests[before:]
    assert report.tickets_updated >= 100
    assert (
        sum(path.startswith("/api/v2/tickets?") and "filter" not in path for path in new_requests)
        <= 2
    )
    assert not any(path.startswith("/api/v2/tickets/") for path in new_requests)


def test_429_is_waited_out_with_retry_after(make_account: Any) -> None:
    account = make_account()
    account.state.faults = [Fault("status", status=429, retry_after=7, skip=1)]
    account.sync()
    assert 7.0 in account.sleeps
    assert set(account.tickets()) == visible_ids(account.state)


def test_5xx_is_retried(make_account: Any) -> None:
    account = make_account()
    account.state.faults = [Fault("status", status=503, times=2), Fault("drop", skip=3)]
    account.sync()
    assert len(account.sleeps) == 3
    assert set(account.tickets()) == visible_ids(account.state)


def test_a_wrong_key_fails_clearly_and_stores_nothing(make_account: Any) -> None:
    account = make_account()
    account.client = FreshdeskClient(
        account.client.base_url, "wrong-key", sleep=account.sleeps.append
    )
    with pytest.raises(FreshdeskAuthError, match="Freshdesk refused the API key"):
        account.sync()
    assert account.tickets() == {}
    with account.engine.connect() as connection:
        run = connection.execute(select(table_of(SyncRun))).mappings().one()
    assert run["outcome"] == "failed" and "wrong-key" not in run["errors"]


def test_garbage_json_fails_clearly_after_retries(make_account: Any) -> None:
    account = make_account()
    account.state.faults = [Fault("garbage", times=10)]
    with pytest.raises(
        FreshdeskError, match=r"GET /api/v2/tickets returned a body that is not JSON"
    ):
        account.sync()
    assert account.tickets() == {}


def test_an_interrupted_sync_keeps_what_it_committed_and_resumes(make_account: Any) -> None:
    account = make_account(tickets=450)
    account.state.faults = [Fault("status", status=500, skip=2, times=10)]
    with pytest.raises(FreshdeskError):
        account.sync()
    partial = account.tickets()
    assert 0 < len(partial) < len(visible_ids(account.state))
    account.state.faults = []
    account.sync()
    assert set(account.tickets()) == visible_ids(account.state)


def test_deleted_and_spam_are_marked_never_dropped(make_account: Any) -> None:
    account = make_account()
    account.sync()
    account.later(minutes=31)
    account.state.mark(7, deleted=True)
    account.state.mark(8, spam=True)
    account.sync()
    stored = account.tickets()
    assert stored[7]["deleted"] and not stored[7]["spam"]
    assert stored[8]["spam"] and not stored[8]["deleted"]
    assert account.transitions(7)  # history kept


def test_a_hard_deleted_open_ticket_is_marked_gone_by_reconciliation(make_account: Any) -> None:
    account = make_account()
    account.sync()
    open_ticket = next(i for i, row in account.tickets().items() if row["status"] not in (4, 5))
    account.later(minutes=61)
    account.state.mark(open_ticket, purged=True)
    report = account.sync()
    assert report.gone >= 1 and account.tickets()[open_ticket]["gone"]


def test_status_transitions_observed_inferred_and_gaps(make_account: Any) -> None:
    account = make_account()
    pending, bounced, flipped = 11, 12, 13
    for ticket_id in (pending, bounced, flipped):
        account.state.change(ticket_id, "status", 2)
    account.sync()
    account.later(minutes=10)
    account.state.change(pending, "status", 3)
    account.state.change(bounced, "status", 4)
    account.later(minutes=10)
    account.state.change(bounced, "status", 2)  # resolved and reopened between polls
    account.state.change(flipped, "status", 6)
    account.later(minutes=1)
    account.state.change(flipped, "status", 2)  # Open → Waiting on Customer → Open unseen
    account.sync()

    def last(ticket_id: int, count: int = 1) -> list[tuple[Any, ...]]:
        return [(t[0], t[1], t[3]) for t in account.transitions(ticket_id)[-count:]]

    assert last(pending) == [(2, 3, "observed")]
    assert last(bounced, 2) == [(2, 4, "inferred"), (4, 2, "observed")]
    assert account.transitions(flipped)[-1][3] == "gap"


def test_the_first_sync_needs_a_start_date(make_account: Any) -> None:
    account = make_account()
    account.settings = Settings()
    with pytest.raises(ConfigError, match=r"sync\.start_date is not set"):
        account.sync()


@responses.activate
def test_a_bad_timestamp_is_quarantined_and_the_rest_goes_on(tmp_path: Any) -> None:
    ticket = {
        "id": 42,
        "status": 2,
        "created_at": "yesterday",
        "updated_at": "2026-11-26T10:00:00Z",
    }
    responses.get("https://acme.freshdesk.com/api/v2/tickets", json=[ticket])
    responses.get("https://acme.freshdesk.com/api/v2/tickets/42", json=ticket)
    responses.get("https://acme.freshdesk.com/api/v2/companies", json=[])
    responses.get("https://acme.freshdesk.com/api/v2/ticket_fields", json=[])
    responses.get("https://acme.freshdesk.com/api/v2/groups", json=[])
    responses.get("https://acme.freshdesk.com/api/v2/agents", json=[])
    engine = open_store(f"sqlite:///{tmp_path / 'bad.db'}")
    client = FreshdeskClient("https://acme.freshdesk.com", "key")
    report = sync_once(client, engine, SETTINGS, now=NOW)
    assert report.quarantined == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(table_of(Ticket))).scalar() == 0
        watermarks = connection.execute(select(table_of(SyncState).c.watermark)).scalars().all()
        [entry] = connection.execute(select(table_of(QuarantinedRecord))).mappings().all()
    assert datetime(2026, 11, 26, 10, tzinfo=UTC) in watermarks  # moved past it
    assert entry["reason"].startswith(
        "ticket 42: created_at: 'yesterday' is not an ISO 8601 instant"
    )
    assert json.loads(entry["raw"]) == ticket and entry["resolved_at"] is None
    assert entry["attempts"] >= 2  # seen by the list passes, then retried by id


def test_group_and_agent_names_are_synced_once_per_refresh_interval(make_account: Any) -> None:
    account = make_account(tickets=200)
    report = account.sync()
    stored = account.tickets()
    with account.engine.connect() as connection:
        groups, agents = group_names(connection), agent_names(connection)
    assert groups[103_000_187_001] == "Support N2" and agents[103_013_902_117] == "Camille Durand"
    assert {row["group_id"] for row in stored.values()} <= set(groups)
    assert {row["responder_id"] for row in stored.values()} - {None} <= set(agents)
    assert (report.groups, report.agents) == (3, 5) and "3 groups, 5 agents" in report.summary()
    account.later(hours=23)
    assert "directory" not in account.sync().passes  # sync.reference_refresh_hours = 24
    account.later(hours=1)
    before = len(account.state.requests)
    assert "directory" in account.sync().passes
    directory_calls = [
        p for p in account.state.requests[before:] if "/groups" in p or "/agents" in p
    ]
    assert len(directory_calls) == 2


@responses.activate
def test_a_bad_agent_is_quarantined_and_the_others_stored(tmp_path: Any) -> None:
    base = "https://acme.freshdesk.com/api/v2"
    for path in ("tickets", "companies", "ticket_fields"):
        responses.get(f"{base}/{path}", json=[])
    responses.get(f"{base}/groups", json=[{"id": 5, "name": "Support N1"}])
    good = {"id": 7, "contact": {"name": "Camille Durand", "email": "camille@x.example"}}
    responses.get(f"{base}/agents", json=[good, {"id": 8, "contact": {"name": None}}])
    engine = open_store(f"sqlite:///{tmp_path / 'agents.db'}")
    report = sync_once(FreshdeskClient(base[: -len("/api/v2")], "key"), engine, SETTINGS, now=NOW)
    assert report.quarantined == 1 and report.agents == 1
    with engine.connect() as connection:
        assert (group_names(connection), agent_names(connection)) == (
            {5: "Support N1"},
            {7: "Camille Durand"},
        )
        [entry] = connection.execute(select(table_of(QuarantinedRecord))).mappings().all()
    assert (entry["kind"], entry["record_key"], entry["ticket_id"]) == ("agent", "8", None)
    assert entry["reason"] == "agent 8: contact.name = 'None' is not a name"

"""The simulator speaks Freshdesk: shapes, limits, credits, 429 and faults."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import requests

from sla_tracker.helpdesk.freshdesk.simulator.dataset import LazyTickets, _PackedIndex
from sla_tracker.helpdesk.freshdesk.simulator.server import (
    Fault,
    Simulator,
    SimulatorState,
    make_state,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AUTH = ("sim-key", "X")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(make_state(seed=7, tickets=400, now=NOW)) as simulator:
        yield simulator


def get(sim: Simulator, path: str, **params: object) -> requests.Response:
    return requests.get(sim.url + path, params=params, auth=AUTH, timeout=5)


def test_list_shape_and_the_eight_stats(sim: Simulator) -> None:
    response = get(sim, "/api/v2/tickets", updated_since="2026-01-01", include="stats", per_page=5)
    tickets = response.json()
    assert response.status_code == 200 and len(tickets) == 5
    assert set(tickets[0]["stats"]) == {
        "agent_responded_at", "requester_responded_at", "first_responded_at", "status_updated_at",
        "reopened_at", "resolved_at", "closed_at", "pending_since",
    }  # fmt: skip
    assert "description" not in tickets[0]
    assert tickets[0]["created_at"].endswith("Z")
    assert response.headers["X-RateLimit-Used-CurrentRequest"] == "3"
    assert 'rel="next"' in response.headers["Link"]


def test_includes_cost_two_credits_each(sim: Simulator) -> None:
    response = get(sim, "/api/v2/tickets", include="stats,description,requester")
    assert response.headers["X-RateLimit-Used-CurrentRequest"] == "7"
    assert "description_text" in response.json()[0]


def test_default_window_is_thirty_days_of_creations(sim: Simulator) -> None:
    everything = get(sim, "/api/v2/tickets", updated_since="2020-01-01", per_page=100, page=1)
    recent = get(sim, "/api/v2/tickets", per_page=100).json()
    assert recent and all(t["created_at"] >= "2026-10-27" for t in recent)
    assert len(recent) < len(everything.json()) or "Link" in everything.headers


def test_ordering_by_updated_at(sim: Simulator) -> None:
    tickets = get(sim, "/api/v2/tickets", updated_since="2026-01-01", order_by="updated_at",
                  order_type="asc", per_page=100).json()  # fmt: skip
    stamps = [t["updated_at"] for t in tickets]
    assert stamps == sorted(stamps)


def test_page_301_gets_freshdesks_exact_refusal(sim: Simulator) -> None:
    response = get(sim, "/api/v2/tickets", page=301)
    assert response.status_code == 400
    assert response.json()["errors"][0] == {
        "field": "page",
        "message": "You cannot access tickets beyond the 300th page. "
        "Please provide a smaller page number.",
        "code": "invalid_value",
    }


def test_per_page_above_100_is_refused(sim: Simulator) -> None:
    response = get(sim, "/api/v2/tickets", per_page=101)
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "per_page"


def test_wrong_key_is_401(sim: Simulator) -> None:
    response = requests.get(sim.url + "/api/v2/tickets", auth=("nope", "X"), timeout=5)
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"


def test_view_conversations_companies_and_fields(sim: Simulator) -> None:
    ticket = get(sim, "/api/v2/tickets/3", include="stats").json()
    assert ticket["id"] == 3 and "stats" in ticket
    assert get(sim, "/api/v2/tickets/999999").status_code == 404
    conversation = get(sim, "/api/v2/tickets/3/conversations").json()
    assert all({"incoming", "private", "body_text"} <= set(entry) for entry in conversation)
    assert get(sim, "/api/v2/companies", per_page=100).json()[0]["name"]
    statuses = next(f for f in get(sim, "/api/v2/ticket_fields").json() if f["name"] == "status")
    assert statuses["choices"]["6"][0] == "Waiting on Customer"  # custom statuses
    assert statuses["choices"]["7"][0] == "Waiting on Third Party"


def test_over_budget_is_429_with_retry_after() -> None:
    state = make_state(seed=1, tickets=50, now=NOW, credits_per_minute=6)
    with Simulator(state) as sim:
        assert get(sim, "/api/v2/tickets", include="stats").status_code == 200
        assert get(sim, "/api/v2/tickets", include="stats").status_code == 200
        refused = get(sim, "/api/v2/tickets", include="stats")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60


def test_faults_are_injected_in_order() -> None:
    state = make_state(seed=1, tickets=50, now=NOW)
    state.faults = [Fault("status", status=503, skip=1), Fault("garbage")]
    with Simulator(state) as sim:
        assert get(sim, "/api/v2/tickets").status_code == 200
        assert get(sim, "/api/v2/tickets").status_code == 503
        garbled = get(sim, "/api/v2/tickets")
        with pytest.raises(json.JSONDecodeError):
            garbled.json()
        assert get(sim, "/api/v2/tickets").status_code == 200


def test_the_clock_moves_tickets_along(sim: Simulator) -> None:
    state: SimulatorState = sim.state
    before = len(state.updated_index())
    requests.post(sim.url + "/_sim/clock", json={"advance_seconds": 7 * 86400}, timeout=5)
    assert len(state.updated_index()) > before  # tickets created after the anchor appear
    requests.post(sim.url + "/_sim/tickets/3", json={"event": "status", "value": 3}, timeout=5)
    assert get(sim, "/api/v2/tickets/3").json()["status"] == 3


def test_deleted_and_spam_are_only_in_their_filters(sim: Simulator) -> None:
    requests.post(sim.url + "/_sim/tickets/4", json={"deleted": True}, timeout=5)
    requests.post(sim.url + "/_sim/tickets/5", json={"spam": True}, timeout=5)
    ids = {
        t["id"]
        for t in get(
            sim,
            "/api/v2/tickets",
            updated_since="2020-01-01",
            per_page=100,
            order_by="created_at",
            order_type="asc",
        ).json()
    }
    assert 4 not in ids and 5 not in ids
    assert [
        t["id"]
        for t in get(sim, "/api/v2/tickets", filter="deleted", updated_since="2020-01-01").json()
    ] == [4]
    assert [
        t["id"]
        for t in get(sim, "/api/v2/tickets", filter="spam", updated_since="2020-01-01").json()
    ] == [5]


def test_groups_and_agents_match_the_tickets_groups_and_responders(sim: Simulator) -> None:
    groups = get(sim, "/api/v2/groups", per_page=100).json()
    agents = get(sim, "/api/v2/agents", per_page=2)
    assert 'rel="next"' in agents.headers["Link"]  # paged like Freshdesk
    everyone = get(sim, "/api/v2/agents", per_page=100).json()
    members = {agent_id for group in groups for agent_id in group["agent_ids"]}
    assert members == {agent["id"] for agent in everyone}
    assert all(agent["contact"]["name"] and agent["contact"]["email"] for agent in everyone)
    tickets = get(sim, "/api/v2/tickets", updated_since="2026-01-01", include="stats",
                  per_page=100).json()  # fmt: skip
    by_group = {group["id"]: set(group["agent_ids"]) for group in groups}
    answered = [t for t in tickets if t["responder_id"] is not None]
    assert answered and all(t["responder_id"] in by_group[t["group_id"]] for t in answered)
    assert len({t["responder_id"] for t in answered}) > 1


@pytest.mark.parametrize("rebuild_above", [2_000, 0])  # moved in place, or in one pass
def test_a_lazy_account_generates_tickets_on_demand_and_indexes_them_exactly(
    rebuild_above: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_PackedIndex, "REBUILD_ABOVE", rebuild_above)
    state = make_state(seed=3, tickets=600, now=NOW, lazy=True)
    tickets = state.dataset.tickets
    assert isinstance(tickets, LazyTickets) and tickets[17] == tickets[17]  # deterministic

    def brute_force() -> list[tuple[int, int]]:
        return sorted((t.updated_at(state.now), t.id) for t in tickets.values() if state.visible(t))

    def index() -> list[tuple[int, int]]:
        found = state.updated_index()
        return [found[position] for position in range(len(found))]

    assert index() == brute_force()
    state.change(5, "status", 3)  # kept from now on, as Freshdesk keeps a change
    state.mark(6, deleted=True)
    state.mark(7, purged=True)
    state.advance(3 * 86400)
    assert index() == brute_force() and 7 not in {ticket_id for _, ticket_id in index()}
    rng = random.Random(5)  # the index is brought forward, not rebuilt: any sequence
    for step in range(40):
        if step % 3 == 0:
            state.change(rng.randrange(1, 600), "customer_reply")
        state.advance(rng.choice([60, 3600, 6 * 3600]))
        assert index() == brute_force()
    state.set_clock(state.now - 86400)  # back in time: rebuilt
    assert index() == brute_force()
    with Simulator(state) as sim:
        assert get(sim, "/api/v2/tickets/5").json()["status"] == 3
        deleted = get(sim, "/api/v2/tickets", filter="deleted", updated_since="2020-01-01").json()
        assert [ticket["id"] for ticket in deleted] == [6]

"""FreshdeskClient against `responses`: auth, retries, pacing and the errors users see."""

from __future__ import annotations

import base64

import pytest
import requests
import responses
from responses import matchers

from sla_tracker.config import ConfigError, Settings
from sla_tracker.helpdesk.freshdesk.client import (
    FreshdeskAuthError,
    FreshdeskClient,
    FreshdeskError,
    FreshdeskNotFoundError,
    FreshdeskValidationError,
)

BASE = "https://acme.freshdesk.com"
TICKETS = f"{BASE}/api/v2/tickets"
KEY = "s3cr3t-api-key"


class FakeClock:
    """Injected sleep and monotonic: records every wait, never waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> FreshdeskClient:
    return FreshdeskClient(BASE, KEY, max_retries=3, sleep=clock.sleep, monotonic=clock.monotonic)


def rate_headers(used: int = 3, remaining: int = 500) -> dict[str, str]:
    return {
        "X-RateLimit-Total": "700",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Used-CurrentRequest": str(used),
    }


@responses.activate
def test_lists_with_basic_auth_key_x_and_counts_credits(client: FreshdeskClient) -> None:
    token = base64.b64encode(f"{KEY}:X".encode()).decode()
    responses.get(
        TICKETS,
        json=[{"id": 1}],
        headers={**rate_headers(), "Link": f'<{TICKETS}?page=2>; rel="next"'},
        match=[
            matchers.header_matcher({"Authorization": f"Basic {token}"}),
            matchers.query_param_matcher(
                {"updated_since": "2026-11-01T00:00:00Z", "per_page": "100"}
            ),
        ],
    )
    page = client.list_tickets({"updated_since": "2026-11-01T00:00:00Z", "per_page": 100})
    assert page.records == [{"id": 1}] and page.has_next
    assert (client.counter.api_calls, client.counter.credits) == (1, 3)


@responses.activate
def test_429_waits_for_retry_after(client: FreshdeskClient, clock: FakeClock) -> None:
    responses.get(TICKETS, status=429, headers={"Retry-After": "17"}, json={"message": "slow down"})
    responses.get(TICKETS, json=[], headers=rate_headers())
    assert client.list_tickets({}).records == []
    assert clock.sleeps == [17.0]
    assert client.counter.api_calls == 2


@responses.activate
def test_5xx_is_retried_with_growing_jittered_backoff(
    client: FreshdeskClient, clock: FakeClock
) -> None:
    for status in (500, 502, 503):
        responses.get(TICKETS, status=status)
    responses.get(TICKETS, json=[])
    client.list_tickets({})
    assert len(clock.sleeps) == 3
    assert 1 <= clock.sleeps[0] <= 2 and 2 <= clock.sleeps[1] <= 3 and 4 <= clock.sleeps[2] <= 5


@responses.activate
def test_retries_are_bounded_and_the_error_says_so(client: FreshdeskClient) -> None:
    responses.get(TICKETS, status=503)
    with pytest.raises(FreshdeskError, match=r"server error \(503\) — gave up after 4 attempts"):
        client.list_tickets({})
    assert client.counter.api_calls == 4


@responses.activate
def test_connection_errors_and_timeouts_are_retried(
    client: FreshdeskClient, clock: FakeClock
) -> None:
    responses.get(TICKETS, body=requests.ConnectionError("reset by peer"))
    responses.get(TICKETS, body=requests.Timeout("slow"))
    responses.get(TICKETS, json=[])
    assert client.list_tickets({}).records == []
    assert len(clock.sleeps) == 2


@responses.activate
def test_401_names_the_key_without_showing_it(client: FreshdeskClient) -> None:
    responses.get(
        TICKETS,
        status=401,
        json={"code": "invalid_credentials", "message": "You have to be logged in"},
    )
    with pytest.raises(FreshdeskAuthError) as error:
        client.list_tickets({})
    message = str(error.value)
    assert "Freshdesk refused the API key" in message and "SLA_TRACKER_FRESHDESK_API_KEY" in message
    assert KEY not in message and client.counter.api_calls == 1  # permanent: not retried


@responses.activate
def test_403_points_at_the_agent_scope(client: FreshdeskClient) -> None:
    responses.get(TICKETS, status=403, json={"code": "access_denied", "message": "denied"})
    with pytest.raises(FreshdeskAuthError, match="administrator with global ticket scope"):
        client.list_tickets({})


@responses.activate
def test_404_on_a_list_means_a_wrong_domain(client: FreshdeskClient) -> None:
    responses.get(TICKETS, status=404, body="not found")
    with pytest.raises(FreshdeskNotFoundError, match=r"no Freshdesk API answers at https://acme"):
        client.list_tickets({})


@responses.activate
def test_404_on_a_ticket_means_gone(client: FreshdeskClient) -> None:
    responses.get(f"{TICKETS}/42", status=404, json={"code": "not_found"})
    assert client.view_ticket(42) is None


@responses.activate
def test_400_shows_freshdesks_errors(client: FreshdeskClient) -> None:
    body = {
        "description": "Validation failed",
        "errors": [{"field": "per_page", "message": "It should be ≤ 100", "code": "invalid_value"}],
    }
    responses.get(TICKETS, status=400, json=body)
    with pytest.raises(FreshdeskValidationError) as error:
        client.list_tickets({"per_page": 500})
    assert str(error.value) == (
        "Freshdesk refused GET /api/v2/tickets (400): per_page: It should be ≤ 100 (invalid_value)"
    )
    assert not error.value.is_page_limit


@responses.activate
def test_garbage_json_names_the_endpoint_and_the_first_bytes(client: FreshdeskClient) -> None:
    responses.get(TICKETS, body="<html>Bad gateway</html>", content_type="text/html")
    with pytest.raises(FreshdeskError) as error:
        client.list_tickets({})
    assert (
        "GET /api/v2/tickets returned a body that is not JSON (text/html): b'<html>Bad gateway"
        in str(error.value)
    )


@responses.activate
def test_a_json_object_where_a_list_belongs_is_refused(client: FreshdeskClient) -> None:
    responses.get(TICKETS, json={"tickets": []})
    with pytest.raises(FreshdeskError, match="returned dict, not a list of records"):
        client.list_tickets({})


@responses.activate
def test_own_ceiling_paces_calls(clock: FakeClock) -> None:
    client = FreshdeskClient(
        BASE, KEY, calls_per_minute=2, sleep=clock.sleep, monotonic=clock.monotonic
    )
    responses.get(TICKETS, json=[], headers=rate_headers())
    for _ in range(3):
        client.list_tickets({})
    assert clock.sleeps == [60.0]


@responses.activate
def test_no_credits_left_waits_for_the_window(client: FreshdeskClient, clock: FakeClock) -> None:
    responses.get(TICKETS, json=[], headers=rate_headers(remaining=0))
    client.list_tickets({})
    clock.now += 10
    client.list_tickets({})
    assert clock.sleeps == [50.0]


def test_the_key_is_not_in_the_repr(client: FreshdeskClient) -> None:
    assert KEY not in repr(client)


def test_settings_without_domain_or_key_are_explained() -> None:
    with pytest.raises(ConfigError, match=r"freshdesk\.domain is not set"):
        FreshdeskClient.from_settings(Settings().freshdesk)
    settings = Settings.model_validate({"freshdesk": {"domain": "acme"}})
    with pytest.raises(ConfigError, match="no Freshdesk API key"):
        FreshdeskClient.from_settings(settings.freshdesk)
    settings = Settings.model_validate({"freshdesk": {"domain": "acme", "api_key": KEY}})
    assert FreshdeskClient.from_settings(settings.freshdesk).base_url == BASE


def test_a_full_url_in_domain_is_refused() -> None:
    with pytest.raises(ValueError, match="give only the subdomain"):
        Settings.model_validate({"freshdesk": {"domain": "acme.freshdesk.com"}})


GROUPS = f"{BASE}/api/v2/groups"
AGENTS = f"{BASE}/api/v2/agents"


@responses.activate
def test_groups_and_agents_are_read_page_by_page_with_the_agents_contact_name(
    client: FreshdeskClient,
) -> None:
    responses.get(GROUPS, json=[{"id": 5, "name": "Support N1", "business_hour_id": None}])
    for page, listed in ((1, [(7, "Camille Durand")]), (2, [(8, "Julien Petit")])):
        responses.get(
            AGENTS,
            json=[{"id": i, "contact": {"name": n, "email": f"{i}@x.example"}} for i, n in listed],
            headers={"Link": f'<{AGENTS}?page=2>; rel="next"'} if page == 1 else {},
            match=[matchers.query_param_matcher({"per_page": "100", "page": str(page)})],
        )
    assert client.group_rows().rows == [
        {"id": 5, "name": "Support N1", "business_hour_id": None, "updated_at": None}
    ]
    agents = client.agent_rows()
    assert [(row["id"], row["name"], row["email"]) for row in agents.rows] == [
        (7, "Camille Durand", "7@x.example"),
        (8, "Julien Petit", "8@x.example"),
    ]
    assert agents.rejected == [] and client.counter.api_calls == 3


@responses.activate
def test_a_bad_group_or_agent_is_rejected_with_its_reason(client: FreshdeskClient) -> None:
    responses.get(GROUPS, json=[{"id": 5, "name": " "}, {"id": "6", "name": "N2"}])
    responses.get(AGENTS, json=[{"id": 7, "contact": "Camille"}, {"id": 8, "contact": {}}])
    groups, agents = client.group_rows(), client.agent_rows()
    assert (groups.rows, agents.rows) == ([], [])
    assert [(bad.record_id, bad.reason) for bad in groups.rejected + agents.rejected] == [
        (5, "group 5: name = ' ' is not a name"),
        (None, "a Freshdesk group without a usable id: {'id': '6', 'name': 'N2'}"),
        (7, "agent 7: contact = 'Camille' is not an object"),
        (8, "agent 8: contact.name = 'None' is not a name"),
    ]


@responses.activate
def test_a_key_that_may_not_list_agents_costs_their_names_not_the_sync(
    client: FreshdeskClient, caplog: pytest.LogCaptureFixture
) -> None:
    responses.get(AGENTS, status=403, json={"code": "access_denied", "message": "No access"})
    assert client.agent_rows().rows == []
    assert "may not read GET /api/v2/agents" in caplog.text and KEY not in caplog.text

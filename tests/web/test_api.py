# ruff: noqa: S104, S105  (a public address and fake secrets are what these tests refuse)
"""The web application through FastAPI's test client: pages, the JSON API against the CLI's
``--json``, access control, security headers, metrics against the database, readiness."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sla_tracker.alerts import due_events, record_events
from sla_tracker.cli import cli
from sla_tracker.config import ConfigError, Settings, load_settings
from sla_tracker.core.instants import format_instant
from sla_tracker.decisions import record_classification
from sla_tracker.judgments import Judgments
from sla_tracker.money import ContractTerms, parse_fee, record_contract
from sla_tracker.storage.engine import make_engine
from sla_tracker.storage.tables import AlertEvent, StatusTransition, SyncRun, table_of
from sla_tracker.web.app import WebContext, create_app
from sla_tracker.web.queries import Reader
from tests.scenarios import Scenario
from tests.web.conftest import TOKEN


def cli_json(account: Scenario, tmp_path: Path, *args: str) -> Any:
    """What the CLI prints for ``args`` on the same database at the same instant."""
    config = tmp_path / "cli.toml"
    config.write_text(
        f'[database]\nurl = "{account.engine.url.render_as_string(hide_password=False)}"\n'
        "[pause]\nstatuses = [3, 6]\n[sync]\nstart_date = 2026-01-01\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args],
        env={"SLA_TRACKER_NOW": format_instant(account.now)},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_board_lists_the_urgent_open_tickets_most_urgent_first(web: TestClient) -> None:
    board = web.get("/api/board").json()
    assert board["total"] == 2
    board = board["tickets"]
    assert [item["id"] for item in board] == [2, 1]  # breached first, then least time left
    assert board[0]["clocks"]["response"]["state"] == "breached"
    page = web.get("/").text
    assert 'data-deadline="' in page and "#3" not in page
    assert "due Mon 30 Nov 11:00" in page  # the deadline in the calendar's zone, not UTC
    assert web.get("/", params={"severity": "minor"}).text.count('class="ticket"') == 0
    assert web.get("/board/rows", params={"company": 1}).text.count('class="ticket"') == 2
    assert web.get("/", params={"severity": "urgent"}).status_code == 400


def test_the_api_mirrors_the_cli_json(web: TestClient, account: Scenario, tmp_path: Path) -> None:
    assert web.get("/api/tickets").json() == cli_json(account, tmp_path, "tickets", "--json")
    assert web.get("/api/tickets", params={"open": True, "at_risk": True}).json() == cli_json(
        account, tmp_path, "tickets", "--open", "--at-risk", "--json"
    )
    record_classification(account.engine, 1, {"severity": "blocking"}, by="alice",
                          reason="invoices blocked for every user", now=account.now)  # fmt: skip
    one = cli_json(account, tmp_path, "ticket", "1", "--json")
    assert one["decisions"] and web.get("/api/tickets/1").json() == one
    assert "invoices blocked for every user" in web.get("/tickets/1").text
    assert web.get("/api/exposure").json() == cli_json(account, tmp_path, "exposure", "--json")
    assert web.get("/api/tickets/99").status_code == 404
    assert web.get("/api/tickets", params={"as_of": "tomorrow"}).status_code == 400


def test_the_ticket_page_shows_the_evidence_and_links_to_freshdesk(account: Scenario) -> None:
    settings = account.settings.model_validate(
        {**account.settings.model_dump(), "freshdesk": {"domain": "acme"}}
    )
    context = WebContext(Reader(account.engine, settings, account.calendar), lambda: account.now)
    page = TestClient(create_app(context)).get("/tickets/1").text
    assert "https://acme.freshdesk.com/a/tickets/1" in page
    assert "Evidence for ticket 1" in page and "counted: opening hours" in page
    assert "rule invoice" in page and "Status timeline" in page


def test_customers_reports_and_openapi(web: TestClient, account: Scenario) -> None:
    assert web.get("/customers").status_code == 200
    assert web.get("/reports").status_code == 200
    assert "<html" in web.get("/reports/current").text
    statement = web.get("/customers/1/statement", params={"period": "2026"})
    assert statement.headers["content-disposition"].startswith("attachment")
    assert web.get("/customers/1/statement", params={"period": "someday"}).status_code == 400
    pdf = web.get("/customers/1/statement", params={"period": "2026", "format": "pdf"})
    assert pdf.status_code == 501 or pdf.content.startswith(b"%PDF")
    paths = web.get("/api/openapi.json").json()["paths"]
    assert {"/api/tickets", "/api/tickets/{ticket_id}", "/api/indemnities", "/api/exposure",
            "/api/contracts", "/hooks/freshdesk", "/metrics", "/readyz"} <= set(paths)  # fmt: skip


@pytest.mark.parametrize("path", ["/", "/api/tickets", "/healthz", "/tickets/1"])
def test_every_response_carries_the_security_headers(web: TestClient, path: str) -> None:
    headers = web.get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"


def test_the_board_never_changes_state(web: TestClient) -> None:
    for path in ("/", "/api/tickets", "/api/tickets/1", "/metrics"):
        assert web.post(path).status_code == 405
        assert web.delete(path).status_code == 405


@pytest.fixture(scope="module")
def guarded(account: Scenario) -> TestClient:
    settings = account.settings.model_validate(
        {**account.settings.model_dump(),
         "web": {"address": "0.0.0.0", "token": TOKEN, "username": "wall", "password": "pw"}}
    )  # fmt: skip
    reader = Reader(account.engine, settings, account.calendar)
    return TestClient(create_app(WebContext(reader, lambda: account.now)))


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("path", ["/", "/api/tickets", "/metrics", "/tickets/1"])
def test_credentials_are_required_when_set(guarded: TestClient, path: str) -> None:
    refused = guarded.get(path)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Basic")
    assert guarded.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert guarded.get(path, headers=_basic("wall", "pw")).status_code == 200
    for wrong in ({"Authorization": "Bearer nope"}, _basic("wall", "nope"),
                  {"Authorization": "Basic !!!"}):  # fmt: skip
        answer = guarded.get(path, headers=wrong)
        assert answer.status_code == 401 and TOKEN not in answer.text


def test_probes_need_no_credentials(guarded: TestClient) -> None:
    assert guarded.get("/healthz").json() == {"status": "alive"}
    assert guarded.get("/readyz").status_code == 200


def test_a_public_address_needs_credentials(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not loopback"):
        Settings.model_validate({"web": {"address": "0.0.0.0"}})
    with pytest.raises(ValueError, match=r"both web\.username and web\.password"):
        Settings.model_validate({"web": {"username": "wall"}})
    config = tmp_path / "web.toml"
    config.write_text('[web]\naddress = "0.0.0.0"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(config, environ={})
    assert "SLA_TRACKER_WEB_TOKEN" in str(refused.value)
    secret = "env-token-never-shown"
    settings = load_settings(config, environ={"SLA_TRACKER_WEB_TOKEN": secret})
    assert settings.web.has_credentials and secret not in repr(settings)


def _scrape(web: TestClient) -> dict[str, float]:
    found = {}
    for line in web.get("/metrics").text.splitlines():
        match = re.fullmatch(r"(sla_tracker_\w+(?:\{[^}]*\})?) (\S+)", line)
        if match:
            found[match[1]] = float(match[2])
    return found


def test_metrics_agree_with_the_database(account: Scenario, tmp_path: Path) -> None:
    record_contract(
        account.engine,
        ContractTerms(
            1,
            parse_fee("6000"),
            "annual",
            account.now.date().replace(month=1, day=1),
            None,
            "EUR",
            True,
            None,
        ),
        by="test",
        now=account.now,
    )
    web = TestClient(create_app(WebContext(
        Reader(account.engine, account.settings, account.calendar),
        lambda: account.now + timedelta(minutes=30),
    )))  # fmt: skip
    metrics = _scrape(web)
    runs, alerts = table_of(SyncRun), table_of(AlertEvent)
    with account.engine.connect() as connection:
        calls, credits, ok = connection.execute(
            select(func.sum(runs.c.api_calls), func.sum(runs.c.credits), func.count())
            .where(runs.c.outcome == "ok")
        ).one()  # fmt: skip
    assert metrics["sla_tracker_api_calls_total"] == calls
    assert metrics["sla_tracker_api_credits_total"] == credits
    assert metrics['sla_tracker_syncs_total{outcome="ok"}'] == ok
    assert metrics["sla_tracker_last_sync_age_seconds"] == 30 * 60
    reports = cli_json(account, tmp_path, "tickets", "--open", "--json")
    running = sum(1 for t in reports if t["severity"] == "blocking"
                  and t["clocks"]["response"]["state"] == "running")  # fmt: skip
    key = 'sla_tracker_open_clocks{clock="response",severity="blocking",state="running"}'
    assert metrics.get(key, 0) == running
    assert metrics['sla_tracker_breaches_total{clock="response"}'] == 0  # no service ran yet
    reports = Judgments(account.engine, account.settings, account.calendar, account.now).tickets()
    record_events(account.engine, due_events(reports, (50, 80)), now=account.now)
    metrics = _scrape(web)
    with account.engine.connect() as connection:
        breaches = connection.execute(
            select(func.count()).where(alerts.c.kind == "breach", alerts.c.clock == "response")
        ).scalar()
    assert metrics['sla_tracker_breaches_total{clock="response"}'] == breaches == 1
    exposure = cli_json(account, tmp_path, "exposure", "--json")
    at_risk = sum(float(item["amount_if_unrestored"]) for item in exposure)
    assert metrics['sla_tracker_money_at_risk{currency="EUR"}'] == pytest.approx(at_risk)
    assert metrics["sla_tracker_quarantined_records"] == 0


def test_readiness_follows_the_last_sync(account: Scenario) -> None:
    reader = Reader(account.engine, account.settings, account.calendar)
    fresh = TestClient(create_app(WebContext(reader, lambda: account.now)))
    assert fresh.get("/readyz").json()["status"] == "ready"
    stale_at = account.now + timedelta(minutes=account.settings.web.ready_sync_age_minutes + 1)
    stale = TestClient(create_app(WebContext(reader, lambda: stale_at)))
    answer = stale.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() | {"active_instance": None} == {
        "database": True, "role": "web", "last_sync": format_instant(account.now),
        "sync_fresh": False, "active_instance": None, "status": "unready",
    }  # fmt: skip
    assert stale.get("/healthz").status_code == 200
    gone = make_engine("sqlite:////nonexistent-folder/sla.db")  # the database unreachable
    down = TestClient(create_app(WebContext(replace(reader, engine=gone), lambda: account.now)))
    assert down.get("/readyz").status_code == 503
    assert down.get("/readyz").json()["database"] is False


def test_no_webhook_transition_is_written_by_reads(web: TestClient, account: Scenario) -> None:
    transitions = table_of(StatusTransition)
    with account.engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(transitions)).scalar()
    for path in ("/", "/api/tickets", "/tickets/1", "/metrics", "/customers"):
        web.get(path)
    with account.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(transitions)).scalar() == before

"""Transport gaps over real loopback HTTP: a capped Retry-After, bodies broken on the way,
redirect loops and redirects to another origin, one log line per retry, a stoppable wait."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import responses
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import func, select

from sla_tracker.calendar_files import load_named_calendar
from sla_tracker.cli import cli
from sla_tracker.config import Settings
from sla_tracker.helpdesk.freshdesk.client import (
    MAX_REDIRECTS,
    FreshdeskClient,
    FreshdeskError,
    FreshdeskStopped,
)
from sla_tracker.helpdesk.freshdesk.simulator.server import Fault, Simulator, make_state
from sla_tracker.service.scheduler import Service
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.tables import Ticket, table_of

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KEY = "sim-key"
TICKETS = "/api/v2/tickets"
BROKEN = ["truncated", "bad_chunks", "bad_gzip"]
PAGE = {"updated_since": "2026-01-01T00:00:00Z", "per_page": 5}  # five records


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator(make_state(seed=3, tickets=120, now=NOW)) as sim:
        yield sim


@pytest.fixture(autouse=True)
def _no_faults_left(simulator: Simulator) -> Iterator[None]:
    simulator.state.faults = []
    yield
    simulator.state.faults = []


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(simulator: Simulator, sleeps: list[float]) -> FreshdeskClient:
    return FreshdeskClient(simulator.url, KEY, max_retries=3, sleep=sleeps.append)


def inject(simulator: Simulator, kind: str, times: int = 10**6, **options: Any) -> None:
    simulator.state.faults = [Fault(kind, path=TICKETS, times=times, **options)]


# -- Retry-After ceiling -----------------------------------------------------------------


def test_a_retry_after_past_the_ceiling_ends_the_run_at_once(
    simulator: Simulator, client: FreshdeskClient, sleeps: list[float]
) -> None:
    inject(simulator, "status", status=429, retry_after=86_400)
    with pytest.raises(FreshdeskError) as error:
        client.list_tickets({})
    assert str(error.value) == (
        "GET /api/v2/tickets: Freshdesk rate limit reached (429, retry after 86400 s): longer "
        "than freshdesk.max_retry_after_seconds (120 s), so this run stops here; the next run "
        "retries"
    )
    assert sleeps == [] and client.counter.api_calls == 1  # not honoured, not even once


def test_a_retry_after_within_the_ceiling_is_honoured_on_429_and_503(
    simulator: Simulator, client: FreshdeskClient, sleeps: list[float]
) -> None:
    inject(simulator, "status", times=1, status=429, retry_after=120)
    assert len(client.list_tickets(PAGE).records) == 5
    assert sleeps == [120.0]
    with responses.RequestsMock() as mock:  # the simulator's 503 carries no Retry-After
        mock.get(client.base_url + TICKETS, status=503, headers={"Retry-After": "45"})
        mock.get(client.base_url + TICKETS, json=[])
        assert client.list_tickets({}).records == []
    assert sleeps == [120.0, 45.0]


def test_the_ceiling_is_a_setting(simulator: Simulator, sleeps: list[float]) -> None:
    settings = Settings.model_validate(
        {"freshdesk": {"base_url": simulator.url, "api_key": KEY, "max_retry_after_seconds": 600}}
    )
    client = FreshdeskClient.from_settings(settings.freshdesk, sleep=sleeps.append)
    inject(simulator, "status", times=1, status=429, retry_after=500)
    client.list_tickets({})
    assert client.max_retry_after == 600 and sleeps == [500.0]
    assert Settings().freshdesk.max_retry_after_seconds == 120
    for bad in (0, -5, 3601, float("inf"), float("nan")):
        with pytest.raises(ValidationError, match="max_retry_after_seconds"):
            Settings.model_validate({"freshdesk": {"max_retry_after_seconds": bad}})


# -- bodies broken on the way, redirect loops ----------------------------------------------


@pytest.mark.parametrize(
    ("kind", "cause"),
    [("truncated", "IncompleteRead"), ("bad_chunks", "InvalidChunkLength"),
     ("bad_gzip", "DecodeError")],
)  # fmt: skip
def test_a_body_broken_on_the_way_is_retried(
    simulator: Simulator, client: FreshdeskClient, sleeps: list[float], kind: str, cause: str
) -> None:
    inject(simulator, kind, times=2)
    assert len(client.list_tickets(PAGE).records) == 5
    assert len(sleeps) == 2 and client.counter.api_calls == 3
    inject(simulator, kind)
    with pytest.raises(FreshdeskError) as error:
        client.list_tickets({})
    assert str(error.value).startswith(
        f"GET /api/v2/tickets: the answer was cut off or garbled on the way ({cause}) — gave up "
        "after 4 attempts"
    )


def test_a_redirect_loop_is_a_clear_error_after_a_few_hops(
    simulator: Simulator, client: FreshdeskClient
) -> None:
    inject(simulator, "redirect")
    before = len(simulator.state.requests)
    with pytest.raises(FreshdeskError, match=r"more than 5 redirects \(a redirect loop\): check"):
        client.list_tickets({})
    assert len(simulator.state.requests) - before == MAX_REDIRECTS + 1  # not retried


def test_a_redirect_within_the_origin_is_followed_with_the_key(
    simulator: Simulator, client: FreshdeskClient
) -> None:
    inject(simulator, "redirect", times=1, location=f"{TICKETS}?per_page=2")
    assert len(client.list_tickets({}).records) == 2  # the simulator answers 401 without the key


@pytest.mark.parametrize("kind", [*BROKEN, "redirect"])
def test_cli_sync_reports_transport_faults_as_errors(
    simulator: Simulator, tmp_path: Path, kind: str
) -> None:
    inject(simulator, kind)
    result = sync_cli(simulator, tmp_path, "max_retries = 0\n")
    assert result.exit_code == 1 and result.output.startswith("Error: GET /api/v2/tickets")
    assert "Traceback" not in result.output and KEY not in result.output


def test_cli_sync_reports_a_retry_after_past_the_ceiling(
    simulator: Simulator, tmp_path: Path
) -> None:
    inject(simulator, "status", status=429, retry_after=86_400)
    result = sync_cli(simulator, tmp_path, "")
    assert result.exit_code == 1
    assert result.output.startswith("Error: GET /api/v2/tickets: Freshdesk rate limit reached")
    assert "freshdesk.max_retry_after_seconds (120 s)" in result.output


def sync_cli(simulator: Simulator, folder: Path, freshdesk: str) -> Any:
    config = folder / "sync.toml"
    config.write_text(
        f'[freshdesk]\nbase_url = "{simulator.url}"\n{freshdesk}'
        f'[sync]\nstart_date = 2026-01-01\n[database]\nurl = "sqlite:///{folder / "s.db"}"\n',
        encoding="utf-8",
    )
    env = {"SLA_TRACKER_NOW": "2026-11-26T12:00:00Z", "SLA_TRACKER_FRESHDESK_API_KEY": KEY}
    return CliRunner().invoke(cli, ["--config", str(config), "sync"], env=env)


def test_the_service_logs_the_refusal_and_the_next_run_retries(
    simulator: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.model_validate({"sync": {"start_date": date(2026, 1, 1)}})
    engine = open_store(f"sqlite:///{tmp_path / 'service.db'}")
    client = FreshdeskClient(simulator.url, KEY, sleep=lambda _seconds: None)
    service = Service(
        settings, engine, load_named_calendar("fr-support", settings), client, lambda: NOW
    )
    inject(simulator, "status", status=429, retry_after=86_400)
    with caplog.at_level(logging.INFO, logger="sla_tracker.service"):
        service.run_job("sync", service.sync_and_alert)
        simulator.state.faults = []
        service.run_job("sync", service.sync_and_alert)
    failed, succeeded = (record.getMessage() for record in caplog.records)
    assert failed.startswith("job=sync outcome=error")
    assert "max_retry_after_seconds (120 s), so this run stops here" in failed
    assert succeeded.startswith("job=sync outcome=ok") and "new=120" in succeeded
    with engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(table_of(Ticket))).scalar() == 120
        )


# -- one log line per retry ------------------------------------------------------------------


def test_each_retry_is_logged_with_the_call_the_cause_the_wait_and_the_attempt(
    simulator: Simulator, client: FreshdeskClient, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.state.faults = [
        Fault("status", path=TICKETS, status=503),
        Fault("status", path=TICKETS, status=429, retry_after=7),
        Fault("drop", path=TICKETS),
    ]
    with caplog.at_level(logging.WARNING, logger="sla_tracker.helpdesk.freshdesk.client"):
        client.list_tickets({})
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 3 and all(record.levelname == "WARNING" for record in caplog.records)
    assert lines[0].startswith("GET /api/v2/tickets: Freshdesk server error (503); retry 1/3 in ")
    assert lines[1] == (
        "GET /api/v2/tickets: Freshdesk rate limit reached (429, retry after 7 s); retry 2/3 in "
        "7.0 s"
    )
    assert lines[2].startswith(f"GET /api/v2/tickets: connection to {simulator.url} failed")
    assert "; retry 3/3 in " in lines[2]
    assert not any(KEY in line for line in lines)


# -- a wait that SIGTERM can end ---------------------------------------------------------------


def test_setting_stop_ends_a_back_off_at_once(simulator: Simulator) -> None:
    client = FreshdeskClient(simulator.url, KEY)  # the real wait: on the stop event
    inject(simulator, "status", status=429, retry_after=100)
    client.stop.set()  # as the SIGTERM handler does; a 100 s sleep would hang the test
    with pytest.raises(FreshdeskStopped, match="stopped while waiting 100 s to call Freshdesk"):
        client.list_tickets({})
    assert client.counter.api_calls == 1


def test_setting_stop_ends_a_pacing_wait_at_once(simulator: Simulator) -> None:
    client = FreshdeskClient(simulator.url, KEY, calls_per_minute=1)
    client.list_tickets({})
    client.stop.set()
    with pytest.raises(FreshdeskStopped, match="stopped while waiting 60 s"):
        client.list_tickets({})
    assert client.counter.api_calls == 1


def test_a_stop_during_an_injected_sleep_is_honoured(simulator: Simulator) -> None:
    stoppable = FreshdeskClient(simulator.url, KEY, sleep=lambda _s: stoppable.stop.set())
    inject(simulator, "status", status=503)
    with pytest.raises(FreshdeskStopped):
        stoppable.list_tickets({})
    assert stoppable.counter.api_calls == 1  # no retry after the stop


# -- the API key never leaves the API's origin ------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """Another origin: answers 200 [] and records every request's Authorization header."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def other_origin() -> Iterator[tuple[str, list[str | None]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", Recorder.seen
    server.shutdown()
    server.server_close()
    thread.join()


def test_a_redirect_to_another_port_is_refused_and_sends_nothing_there(
    simulator: Simulator,
    client: FreshdeskClient,
    other_origin: tuple[str, list[str | None]],
) -> None:
    url, seen = other_origin
    inject(simulator, "redirect", location=f"{url}{TICKETS}?page=1")
    with pytest.raises(FreshdeskError) as error:
        client.list_tickets({})
    assert str(error.value) == (
        f"GET /api/v2/tickets was redirected to {url}; the API key is only sent to "
        f"{simulator.url}: if that is your helpdesk, set freshdesk.base_url to it"
    )
    assert seen == []  # requests would have followed (without the key) and returned its data


@responses.activate
def test_an_upgrade_to_https_is_another_origin_too() -> None:
    """requests keeps the key on http→https to the same host; this client sends nothing."""
    responses.get(
        "http://acme.freshdesk.com/api/v2/tickets",
        status=301,
        headers={"Location": "https://acme.freshdesk.com/api/v2/tickets"},
    )
    responses.get("https://acme.freshdesk.com/api/v2/tickets", json=[])
    client = FreshdeskClient("http://acme.freshdesk.com", KEY, sleep=lambda _seconds: None)
    with pytest.raises(FreshdeskError, match=r"redirected to https://acme\.freshdesk\.com:443;"):
        client.list_tickets({})
    assert [call.request.url for call in responses.calls] == [
        "http://acme.freshdesk.com/api/v2/tickets"
    ]

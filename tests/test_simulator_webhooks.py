"""The simulator's webhooks (issue 14.4): each ticket change POSTed with the shared secret,
from a background thread that a slow or dead receiver never blocks."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from sla_tracker.helpdesk.freshdesk.simulator.server import Simulator, make_state

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SHARED = "hook-s3cret"


class Receiver(ThreadingHTTPServer):
    """A loopback webhook receiver that records (headers, body) and can answer slowly."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.deliveries: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.delay = 0.0
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hooks/freshdesk"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.server.delay)
        self.server.deliveries.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def simulator(url: str) -> Simulator:
    state = make_state(seed=7, tickets=100, now=NOW, webhook_url=url, webhook_secret=SHARED)
    return Simulator(state)


def test_a_ticket_change_is_posted_with_the_secret_and_the_contract_body(
    receiver: Receiver,
) -> None:
    with simulator(receiver.url) as sim:
        requests.post(sim.url + "/_sim/tickets/3", json={"event": "status", "value": 3}, timeout=5)
        assert sim.state.webhook is not None
        sim.state.webhook.wait()
    [(headers, body)] = receiver.deliveries
    assert headers["X-Sla-Tracker-Secret"] == SHARED
    assert headers["Content-Type"] == "application/json"
    assert body == {"ticket_id": 3, "status": 3, "updated_at": "2026-11-26T12:00:00Z"}


def test_moving_the_clock_announces_every_ticket_it_changed_oldest_first(
    receiver: Receiver,
) -> None:
    with simulator(receiver.url) as sim:
        state = sim.state
        before = {t.id: t.updated_at(state.now) for t in state.dataset.tickets.values()}
        requests.post(sim.url + "/_sim/clock", json={"advance_seconds": 3 * 86400}, timeout=5)
        assert state.webhook is not None
        state.webhook.wait()
        changed = {
            t.id
            for t in state.dataset.tickets.values()
            if state.visible(t) and t.updated_at(state.now) != before[t.id]
        }
    bodies = [body for _, body in receiver.deliveries]
    assert changed and {body["ticket_id"] for body in bodies} == changed
    assert len(bodies) == len(changed)
    stamps = [body["updated_at"] for body in bodies]
    assert stamps == sorted(stamps) and all(stamp.endswith("Z") for stamp in stamps)


def test_a_slow_receiver_never_blocks_the_api(receiver: Receiver) -> None:
    receiver.delay = 0.5  # a blocking sender would take 1.5 s
    with simulator(receiver.url) as sim:
        started = time.monotonic()
        for ticket_id in (1, 2, 3):
            requests.post(f"{sim.url}/_sim/tickets/{ticket_id}", json={"event": "touch"}, timeout=5)
        listed = requests.get(sim.url + "/api/v2/tickets", auth=("sim-key", "X"), timeout=5)
        assert listed.status_code == 200 and time.monotonic() - started < 1.0
        assert sim.state.webhook is not None
        sim.state.webhook.wait()
    assert [body["ticket_id"] for _, body in receiver.deliveries] == [1, 2, 3]


def test_a_dead_receiver_is_logged_never_raised(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/hooks/freshdesk"  # nobody listens
    caplog.set_level(logging.WARNING)
    with simulator(dead) as sim:
        answer = requests.post(sim.url + "/_sim/tickets/3", json={"event": "touch"}, timeout=5)
        assert answer.status_code == 200
        assert sim.state.webhook is not None
        sim.state.webhook.wait()
        assert sim.state.webhook.failed == 1
    assert "webhook for ticket 3" in caplog.text and SHARED not in caplog.text


def test_a_webhook_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="--webhook-secret"):
        make_state(seed=7, tickets=10, now=NOW, webhook_url="http://127.0.0.1:1/")

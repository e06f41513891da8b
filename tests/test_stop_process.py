"""SIGTERM during a back-off, against real processes: `sync` and `run` stop within 2 s with a
clear message and no traceback, and the interrupted sync leaves a database a rerun completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from sla_tracker.helpdesk.freshdesk.simulator.server import Fault, Simulator, make_state

NOW = "2026-11-26T12:00:00Z"
BACK_OFF = "retry 1/5 in 100.0 s"  # the log line that says the process is waiting
GRACE = 2.0


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    state = make_state(seed=7, tickets=500, now=datetime(2026, 11, 26, 12, tzinfo=UTC))
    with Simulator(state) as sim:
        yield sim


class Watched:
    """A process whose merged output is read by a thread, so a quiet process cannot hang us."""

    def __init__(self, config: Path, command: str) -> None:
        env = {**os.environ, "SLA_TRACKER_NOW": NOW, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sla_tracker", "--config", str(config), command],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()

    def wait_for(self, needle: str, seconds: float) -> None:
        with self._seen:
            if not self._seen.wait_for(lambda: any(needle in line for line in self.lines), seconds):
                raise AssertionError(f"{needle!r} not seen within {seconds} s: {self.lines}")

    def terminate_and_time(self) -> tuple[int, float]:
        """SIGTERM, then the exit status and how long the process took to exit."""
        sent = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            status = self.process.wait(30)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        elapsed = time.monotonic() - sent
        self._reader.join(5)
        return status, elapsed

    @property
    def output(self) -> str:
        return "".join(self.lines)


def write_config(folder: Path, sim: Simulator) -> Path:
    config = folder / "stop.toml"
    config.write_text(
        f'[freshdesk]\nbase_url = "{sim.url}"\ncalls_per_minute = 100000\n'
        f'[sync]\nstart_date = 2026-01-01\n[database]\nurl = "sqlite:///{folder / "stop.db"}"\n',
        encoding="utf-8",
    )
    return config


def scalar(database: Path, query: str) -> Any:
    with create_engine(f"sqlite:///{database}").connect() as connection:
        return connection.execute(text(query)).scalar()


def test_sigterm_during_a_sync_back_off_stops_it_at_once_and_a_rerun_completes(
    simulator: Simulator, tmp_path: Path
) -> None:
    # Two pages of 100 go through, then Freshdesk asks for 100 s of patience.
    simulator.state.faults = [
        Fault("status", path="/api/v2/tickets", times=10**6, skip=2, status=429, retry_after=100)
    ]
    config = write_config(tmp_path, simulator)
    sync = Watched(config, "sync")
    sync.wait_for(BACK_OFF, 30)
    status, elapsed = sync.terminate_and_time()
    simulator.state.faults = []
    assert status == 1 and elapsed < GRACE, (status, elapsed, sync.output)
    assert "Error: stopped by SIGTERM" in sync.output and "Traceback" not in sync.output
    database, tickets = tmp_path / "stop.db", "SELECT count(*) FROM ticket"
    state = simulator.state
    total = sum(state.visible(ticket) for ticket in state.dataset.tickets.values())
    assert 100 < scalar(database, tickets) < total  # the two pages committed are kept
    assert scalar(database, "SELECT outcome FROM sync_run ORDER BY id DESC LIMIT 1") == "failed"
    rerun = Watched(config, "sync")
    assert rerun.process.wait(60) == 0, rerun.output
    assert scalar(database, tickets) == total


def test_sigterm_during_a_service_back_off_stops_it_at_once(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.state.faults = [
        Fault("status", path="/api/v2/tickets", times=10**6, status=429, retry_after=100)
    ]
    service = Watched(write_config(tmp_path, simulator), "run")
    service.wait_for(BACK_OFF, 30)
    status, elapsed = service.terminate_and_time()
    simulator.state.faults = []
    assert status == 0 and elapsed < GRACE, (status, elapsed, service.output)
    output = service.output
    assert "received SIGTERM" in output and "Traceback" not in output
    assert "job=sync outcome=error" in output and "stopped while waiting 100 s" in output
    assert output.rstrip().endswith("stopped")

"""`sla-tracker sync` as a process: SIGKILL at random points then rerun gives the same data;
two syncs at once never interleave; the demo runs end to end."""

from __future__ import annotations

import os
import random
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
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from sla_tracker.cli import cli
from sla_tracker.helpdesk.freshdesk.simulator.server import Fault, Simulator, make_state
from sla_tracker.storage.locks import sync_lock
from sla_tracker.storage.schema import open_store

NOW = "2026-11-26T12:00:00Z"
# Compared row by row. Left out: sync_run (one row per process by design) and the
# autoincrement ids and sync_run_id of the history tables, which number rows, not facts.
COMPARED = {
    "ticket": "*",
    "company": "*",
    "ticket_field": "*",
    "sync_state": "*",
    "status_transition": "ticket_id, from_status, to_status, at, observed_at, kind, evidence, "
    "superseded_at",
    "ticket_change": "ticket_id, observed_at, changes",
    "ticket_snapshot": "ticket_id, updated_at, observed_at, status, status_updated_at",
    "customer_reply": "ticket_id, at, observed_at, source",
}


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    state = make_state(seed=5, tickets=4_000, now=datetime(2026, 11, 26, 12, tzinfo=UTC))
    with Simulator(state) as sim:
        yield sim


def write_config(folder: Path, sim: Simulator, name: str) -> Path:
    config = folder / f"{name}.toml"
    config.write_text(
        f'[freshdesk]\nbase_url = "{sim.url}"\ncalls_per_minute = 100000\n'
        f"[sync]\nstart_date = 2026-01-01\nlock_wait_seconds = 0.5\n"
        f'[database]\nurl = "sqlite:///{folder / name}.db"\n',
        encoding="utf-8",
    )
    return config


def sync_process(config: Path) -> subprocess.Popen[bytes]:
    """The sync alone (its crash safety is under test): judging is left to `refresh`."""
    env = {**os.environ, "SLA_TRACKER_NOW": NOW, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"}
    command = [sys.executable, "-m", "sla_tracker", "--config", str(config), "sync", "--no-judge"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def snapshot(database: Path) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        return {
            table: sorted(
                tuple(str(value) for value in row)
                for row in connection.execute(text(f"SELECT {columns} FROM {table}"))  # noqa: S608
            )
            for table, columns in COMPARED.items()
        }


def _judgment_count(database: Path) -> int:
    with create_engine(f"sqlite:///{database}").connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM ticket_judgment")).scalar_one())


def _ticket_count(database: Path) -> int:
    try:
        return len(snapshot(database)["ticket"])
    except Exception:  # killed before the schema existed
        return 0


def test_sigkill_at_random_points_then_rerun_gives_the_uninterrupted_database(
    simulator: Simulator, tmp_path: Path
) -> None:
    # Slow each list call a little: the sync then spends seconds between commits, and the
    # random kills land before, between and after them.
    simulator.state.faults = [Fault("slow", path="/api/v2/tickets", times=10**6, seconds=0.04)]
    reference = sync_process(write_config(tmp_path, simulator, "reference"))
    started = time.monotonic()
    assert reference.wait(120) == 0, reference.stderr.read() if reference.stderr else ""
    duration = time.monotonic() - started
    expected = snapshot(tmp_path / "reference.db")
    assert len(expected["ticket"]) == 4_000
    killed_mid_run = partial_databases = 0
    for seed in (1, 2, 3, 4, 5):
        config = write_config(tmp_path, simulator, f"killed-{seed}")
        process = sync_process(config)
        time.sleep(
            random.Random(seed).uniform(duration * 0.45, duration * 0.95)
        )  # past start-up, mostly mid-sync
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_run += 1
        process.wait(30)
        database = tmp_path / f"killed-{seed}.db"
        partial_databases += 0 < _ticket_count(database) < 4_000
        rerun = sync_process(config)
        assert rerun.wait(120) == 0, rerun.stderr.read() if rerun.stderr else ""
        assert snapshot(tmp_path / f"killed-{seed}.db") == expected, f"seed {seed} differs"
    simulator.state.faults = []
    assert killed_mid_run >= 3 and partial_databases >= 1  # the kills did land mid-sync


def test_a_second_sync_at_the_same_time_exits_with_a_clear_message(
    simulator: Simulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, simulator, "busy")
    engine = open_store(f"sqlite:///{tmp_path / 'busy.db'}")
    with sync_lock(engine):
        process = sync_process(config)
        assert process.wait(30) == 1
    error = process.stderr.read().decode() if process.stderr else ""
    assert error.startswith("Error: another sync is running on this database")
    assert "Traceback" not in error


def test_sync_command_prints_a_one_line_summary(simulator: Simulator, tmp_path: Path) -> None:
    config = write_config(tmp_path, simulator, "cli")
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "sync"],
        env={"SLA_TRACKER_NOW": NOW, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"},
    )
    assert result.exit_code == 0, result.output
    [line] = result.output.splitlines()
    assert (
        line.startswith("Synced in ") and "new and 0 updated tickets" in line and "credits" in line
    )
    assert _judgment_count(tmp_path / "cli.db") == 4_000  # kept by the sync


def test_sync_no_judge_only_polls_and_refresh_keeps_the_judgments(
    simulator: Simulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, simulator, "backfill")
    env = {"SLA_TRACKER_NOW": NOW, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"}
    result = CliRunner().invoke(cli, ["--config", str(config), "sync", "--no-judge"], env=env)
    assert result.exit_code == 0, result.output
    assert _judgment_count(tmp_path / "backfill.db") == 0
    result = CliRunner().invoke(cli, ["--config", str(config), "refresh"], env=env)
    assert result.exit_code == 0 and "4000 ticket(s) judged and kept" in result.output


def test_sync_without_a_key_says_where_to_put_it(simulator: Simulator, tmp_path: Path) -> None:
    config = write_config(tmp_path, simulator, "nokey")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "sync"], env={"SLA_TRACKER_FRESHDESK_API_KEY": ""}
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: no Freshdesk API key: set $SLA_TRACKER_FRESHDESK_API_KEY"
    )


def test_db_upgrade(tmp_path: Path) -> None:
    config = tmp_path / "db.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "x.db"}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "db", "upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output


def test_sigterm_during_a_sync_lets_it_finish_and_stops_cleanly(
    simulator: Simulator, tmp_path: Path
) -> None:
    config = write_config(tmp_path, simulator, "service")
    env = {**os.environ, "SLA_TRACKER_NOW": NOW, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"}
    command = [sys.executable, "-m", "sla_tracker", "--config", str(config), "run"]
    service = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert service.stdout is not None
    _wait_for(service, "active:", 30)  # the first sync starts at once
    time.sleep(0.5)  # mid-way through the 4,000-ticket backfill
    service.send_signal(signal.SIGTERM)
    output = service.stdout.read()
    assert service.wait(60) == 0
    assert (
        "received SIGTERM" in output
        and "job=sync outcome=ok" in output
        and output.rstrip().endswith("stopped")
    )
    assert len(snapshot(tmp_path / "service.db")["ticket"]) == 4_000  # the sync finished, committed


def _wait_for(process: subprocess.Popen[str], text: str, seconds: float) -> float:
    """Read the process's log until ``text`` appears; returns how long it took.

    Lines are read by a thread, so a process that goes quiet fails the test instead of
    hanging it.
    """
    assert process.stdout is not None
    found = threading.Event()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            if text in line:
                found.set()
                return

    started = time.monotonic()
    threading.Thread(target=read, daemon=True).start()
    if not found.wait(seconds):
        raise AssertionError(f"{text!r} not seen within {seconds} s")
    return time.monotonic() - started


def test_two_services_on_postgresql_one_active_and_the_standby_takes_over(
    simulator: Simulator, tmp_path: Path, postgres_url: str
) -> None:
    config = tmp_path / "replicas.toml"
    config.write_text(
        f'[freshdesk]\nbase_url = "{simulator.url}"\ncalls_per_minute = 100000\n'
        f"[sync]\nstart_date = 2026-01-01\n[schedule]\nstandby_poll_seconds = 0.5\n"
        f'[database]\nurl = "{postgres_url}"\n',
        encoding="utf-8",
    )
    open_store(postgres_url)  # migrate once, before the replicas race
    env = {**os.environ, "SLA_TRACKER_NOW": NOW, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"}
    command = [sys.executable, "-m", "sla_tracker", "--config", str(config), "run"]
    options: dict[str, Any] = {
        "env": env,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.STDOUT,
        "text": True,
    }
    active = subprocess.Popen(command, **options)
    standby = None
    try:
        _wait_for(active, "active:", 30)
        standby = subprocess.Popen(command, **options)
        _wait_for(standby, "standby: another instance is active", 30)
        active.send_signal(signal.SIGKILL)
        active.wait(10)
        assert _wait_for(standby, "active:", 15) < 5  # within a few polls of the death
        _wait_for(standby, "job=sync outcome=ok", 60)
    finally:
        for process in (active, standby):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(60)


def test_reads_never_make_a_concurrent_sync_fail(simulator: Simulator, tmp_path: Path) -> None:
    """Read commands looping on SQLite while a full sync writes: the sync succeeds (reads
    never write, connections wait on a busy database instead of failing)."""
    config = write_config(tmp_path, simulator, "busy")
    first = sync_process(config)
    assert first.wait(120) == 0
    simulator.state.faults = [Fault("slow", path="/api/v2/tickets", times=10**6, seconds=0.02)]
    env = {**os.environ, "SLA_TRACKER_NOW": NOW}
    reads = [sys.executable, "-m", "sla_tracker", "--config", str(config), "tickets", "--json"]
    writer = subprocess.Popen(
        [sys.executable, "-m", "sla_tracker", "--config", str(config), "sync", "--full"],
        env={**env, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    read_runs = []
    try:
        while writer.poll() is None:
            read = subprocess.run(reads, env=env, capture_output=True, timeout=120, check=False)
            read_runs.append(read.returncode)
    finally:
        simulator.state.faults = []
    _, errors = writer.communicate(timeout=120)
    assert writer.returncode == 0, errors.decode()
    assert read_runs and set(read_runs) == {0}
    engine = create_engine(f"sqlite:///{tmp_path / 'busy'}.db")
    with engine.connect() as connection:
        outcomes = connection.execute(text("SELECT outcome, errors FROM sync_run")).all()
    assert [tuple(row) for row in outcomes] == [("ok", None), ("ok", None)]

"""One active instance, really: an instance that loses its lock steps down and writes nothing
more; concurrent first-use migrations take turns. Against real processes and PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sla_tracker.helpdesk.freshdesk.simulator.server import Fault, Simulator, make_state
from sla_tracker.storage.engine import LockLostError
from sla_tracker.storage.locks import SERVICE_LOCK_KEY, schema_lock_key, service_lock
from sla_tracker.storage.schema import open_store
from tests.conftest import POSTGRES_URL

NOW = "2026-11-26T12:00:00Z"
JOB_LINE = re.compile(r"^(\S+ \S+) \S+ \S+ job=(\w+) outcome=(\w+) duration=([\d.]+)s")


@pytest.fixture
def fresh_postgres_database(postgres_url: str) -> Iterator[str]:
    """A database of its own (``postgres_url`` skips without a server, fails under CI): a
    fresh one for first-use migrations, and advisory locks no other test shares."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"sla_lock_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return str(request.getfixturevalue("fresh_postgres_database"))


def test_three_concurrent_db_upgrades_on_a_fresh_database_all_succeed(
    fresh_database: str, tmp_path: Path
) -> None:
    config = tmp_path / "upgrade.toml"
    config.write_text(f'[database]\nurl = "{fresh_database}"\n', encoding="utf-8")
    command = [sys.executable, "-m", "sla_tracker", "--config", str(config), "db", "upgrade"]
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert all(output.startswith("Database schema is up to date") for output in outputs)
    open_store(fresh_database)  # and the schema is whole


def _lose_lock(url: str) -> None:
    """Take the service lock from under its holder: terminate its PostgreSQL session (as
    ``pg_terminate_backend``, a network cut or a failover do), or delete its SQLite lock file."""
    if make_url(url).get_backend_name() == "sqlite":
        Path(f"{make_url(url).database}.service.lock").unlink()
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        pid = connection.execute(
            text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objid = :k AND database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())"
            ),
            {"k": schema_lock_key(connection, SERVICE_LOCK_KEY)},
        ).scalar_one()
        connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    engine.dispose()


def test_a_lost_lock_fences_every_later_write_of_the_instance(fresh_database: str) -> None:
    engine = open_store(fresh_database)
    with service_lock(engine, holder="me", poll_seconds=0.1, on_standby=lambda: None) as lock:
        with engine.begin() as connection:  # writes go through while it is held
            connection.execute(text("DELETE FROM ticket"))
        assert lock.held()
        _lose_lock(fresh_database)
        with pytest.raises(LockLostError, match="lost the service lock"), engine.begin():
            pass
        assert not lock.held()
    with engine.begin() as connection:  # released: the fence went with the lock
        connection.execute(text("DELETE FROM ticket"))


def test_postgresql_sessions_use_tcp_keepalives_and_a_user_timeout(
    fresh_postgres_database: str,
) -> None:
    engine = open_store(fresh_postgres_database)
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        parameters = driver.info.get_parameters()
    assert parameters["keepalives_idle"] == "10" and parameters["tcp_user_timeout"] == "30000"


class ProcessLog:
    """A process's output, read by a thread; ``wait_for`` fails the test instead of hanging."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, fragment: str, seconds: float, *, after: int = 0) -> int:
        """The index of the first line from ``after`` on that holds ``fragment``."""
        deadline = time.monotonic() + seconds
        with self._changed:
            while True:
                for index in range(after, len(self.lines)):
                    if fragment in self.lines[index]:
                        return index
                left = deadline - time.monotonic()
                if left <= 0:
                    tail = "\n".join(self.lines[-15:])
                    raise AssertionError(f"{fragment!r} not seen within {seconds} s:\n{tail}")
                self._changed.wait(left)


def _at(line: str) -> float:
    """The epoch of a log line (its asctime is local time, the same in every process)."""
    return datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()


def _jobs(log: ProcessLog) -> list[tuple[float, float, str, str]]:
    """(started, ended, job, outcome) of each job run in a log."""
    runs = []
    for line in log.lines:
        if match := JOB_LINE.match(line):
            ended = _at(line)
            runs.append((ended - float(match[4]), ended, match[2], match[3]))
    return runs


def _runs_on_both(
    first: ProcessLog, second: ProcessLog
) -> list[tuple[tuple[float, float, str, str], ...]]:
    """Pairs of job runs of the two instances at the same time, but for runs cut short
    because their instance had lost the lock (they wrote nothing after that)."""
    return [
        (one, other)
        for one in _jobs(first)
        for other in _jobs(second)
        if one[0] < other[1] and other[0] < one[1] and "lost" not in (one[3], other[3])
    ]


def test_an_active_instance_that_loses_its_lock_steps_down_and_one_instance_runs_jobs(
    fresh_database: str, tmp_path: Path
) -> None:
    url = fresh_database
    state = make_state(seed=5, tickets=1_000, now=datetime(2026, 11, 26, 12, tzinfo=UTC))
    # Slow list calls: the first sync takes seconds, so the lock is lost in the middle of it.
    state.faults = [Fault("slow", path="/api/v2/tickets", times=10**6, seconds=0.2)]
    env = {**os.environ, "SLA_TRACKER_NOW": NOW, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"}
    with Simulator(state) as simulator:
        config = tmp_path / "service.toml"
        config.write_text(
            f'[freshdesk]\nbase_url = "{simulator.url}"\ncalls_per_minute = 100000\n'
            f"[sync]\nstart_date = 2026-01-01\nlock_wait_seconds = 60\n"
            f"[schedule]\nstandby_poll_seconds = 0.3\n"
            f'[database]\nurl = "{url}"\n',
            encoding="utf-8",
        )
        engine = open_store(url)  # migrate once, before the instances start
        command = [sys.executable, "-m", "sla_tracker", "--config", str(config), "run"]

        def start() -> ProcessLog:
            process = subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )
            return ProcessLog(process)

        first = start()
        second = None
        try:
            first.wait_for("service active: ", 30)
            second = start()
            second.wait_for("standby: another instance is active", 30)
            deadline = time.monotonic() + 60
            while not _tickets(engine) and time.monotonic() < deadline:
                time.sleep(0.05)  # the first instance's sync has committed a page
            assert _tickets(engine), "the first sync committed nothing"
            _lose_lock(url)
            lost_at = time.time()
            lost = first.wait_for("lost the service lock", 20)
            # One of them is active again: the standby, or the first one if it re-took the
            # lock before the standby's next poll.
            winner = _first_to_log("service active: ", (second, 0), (first, lost), seconds=20)
            if winner is second:  # the first one went back to standby
                first.wait_for("standby: another instance is active", 20, after=lost)
            winner.wait_for("job=sync outcome=ok", 120, after=lost if winner is first else 0)
        finally:
            for log in (first, second):
                if log is not None and log.process.poll() is None:
                    log.process.send_signal(signal.SIGTERM)
            for log in (first, second):
                if log is not None:
                    assert log.process.wait(60) == 0
    # The first instance's sync was cut at its next write, and no two instances ran jobs at
    # the same time.
    assert [
        (job, outcome) for start, end, job, outcome in _jobs(first) if start < lost_at < end
    ] == [("sync", "lost")]
    assert _runs_on_both(first, second) == []
    for log in (first, second):  # SIGTERM lets a running job finish and starts none
        stopped = _at(log.lines[log.wait_for("received SIGTERM", 0)])
        assert all(start < stopped for start, _end, _job, _outcome in _jobs(log))
        assert log.lines[-1].endswith("stopped")


def _first_to_log(fragment: str, *logs: tuple[ProcessLog, int], seconds: float) -> ProcessLog:
    """Of several logs, the first to show ``fragment`` (each from its own line index on)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for log, after in logs:
            if any(fragment in line for line in log.lines[after:]):
                return log
        time.sleep(0.05)
    raise AssertionError(f"{fragment!r} not seen within {seconds} s")


def _tickets(engine: object) -> int:
    with engine.connect() as connection:  # type: ignore[attr-defined]
        return int(connection.execute(text("SELECT count(*) FROM ticket")).scalar_one())


def test_files_the_tracker_creates_are_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "private.db"
    engine = open_store(f"sqlite:///{database}")
    with (
        service_lock(engine, holder="me", poll_seconds=0.1, on_standby=lambda: None),
        engine.connect() as connection,
    ):
        connection.execute(text("SELECT count(*) FROM ticket"))  # -wal and -shm exist now
        created = sorted(path.name for path in tmp_path.iterdir())
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in tmp_path.iterdir()}
    assert created == [
        "private.db",
        "private.db-shm",
        "private.db-wal",
        "private.db.migrate.lock",
        "private.db.service.lock",
    ]
    assert set(modes.values()) == {0o600}, modes

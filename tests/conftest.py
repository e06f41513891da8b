"""Shared fixtures: calendars, a non-UTC local zone, snapshot updating."""

from __future__ import annotations

import email
import os
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import date
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from sla_tracker.calendar_files import load_calendar_file
from sla_tracker.core.calendar import BusinessCalendar, OpeningWindow
from tests.scenarios import Scenario

pytest_plugins = ["tests.browser"]

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        help="rewrite tests/snapshots/* from the current code (review the diff!)",
    )


@pytest.fixture
def update_snapshots(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-snapshots"))


@pytest.fixture(scope="session", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The holiday tables' cache (sla_tracker/holiday_cache.py) in the session's own folder,
    inherited by the commands tests start: never the user's ~/.cache."""
    previous = os.environ.get("SLA_TRACKER_CACHE_DIR")
    os.environ["SLA_TRACKER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("SLA_TRACKER_CACHE_DIR", None)
    else:
        os.environ["SLA_TRACKER_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _no_terminal_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output widths come from each test, never from the runner's terminal (pytest-xdist's
    workers, for one, export COLUMNS=80)."""
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)


@pytest.fixture(autouse=True)
def _odd_local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run every test in a local zone that is neither UTC nor Paris: a hidden local read fails."""
    monkeypatch.setenv("TZ", "Asia/Kathmandu")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(scope="session")
def fr_calendar() -> BusinessCalendar:
    return load_calendar_file(ROOT / "calendars" / "fr-support.toml")


def windows(*texts: str) -> tuple[OpeningWindow, ...]:
    return tuple(OpeningWindow.parse(text) for text in texts)


@pytest.fixture
def plain_calendar() -> BusinessCalendar:
    """Mon–Fri 09:00–12:00 and 14:00–18:00 in UTC, one hand-made holiday (2026-01-01)."""
    week = {day: windows("09:00-12:00", "14:00-18:00") for day in range(5)}
    return BusinessCalendar(
        "plain", "UTC", week, holidays=lambda year: {date(year, 1, 1): "New Year"}
    )


POSTGRES_URL = os.environ.get(
    "SLA_TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_schema_url() -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards; skip (or fail in CI) if absent."""
    import sqlalchemy

    admin = sqlalchemy.create_engine(POSTGRES_URL)
    try:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
    except Exception as error:  # psycopg's OperationalError and friends
        admin.dispose()
        reason = f"PostgreSQL not reachable at {POSTGRES_URL}: {str(error).splitlines()[0]}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL storage tests)")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sqlalchemy.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage test runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (skipped without a server, failed under CI)."""
    yield from _postgres_schema_url()


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content = envelope.content  # type: ignore[attr-defined]
        self.messages.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(content, policy=default))
        )  # type: ignore[attr-defined]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


# -- scenarios on the simulator (tests/scenarios.py) ------------------------------------


@pytest.fixture
def scenario(tmp_path: Path) -> Iterator[Scenario]:
    built = Scenario(tmp_path)
    yield built
    built.close()


@pytest.fixture
def blocked(tmp_path: Path) -> Iterator[Scenario]:
    scenario = Scenario(tmp_path)
    scenario.at("2026-11-30 09:00").ticket(1)  # blocking invoice: response 2 h, GTR 72 h
    scenario.poll()
    yield scenario
    scenario.close()


@pytest.fixture
def week(tmp_path: Path) -> Iterator[Scenario]:
    """Week 2026-W48: three blocking tickets, one answered late, one GTR breach."""
    scenario = Scenario(tmp_path)
    scenario.at("2026-11-23 09:00").ticket(1)  # answered in 30 min, restored the same day
    scenario.ticket(2, "Application inaccessible <script>alert(1)</script>")  # answered after 3 h
    scenario.ticket(
        3, "Impossible de créer un devis"
    )  # never restored: GTR breach Thu 26 11:00? see below
    scenario.poll()
    scenario.at("2026-11-23 09:30").event(1, "agent_reply")
    scenario.at("2026-11-23 12:00").event(2, "agent_reply")
    scenario.event(3, "agent_reply")
    scenario.at("2026-11-23 16:00").event(1, "status", 4)
    scenario.poll()
    scenario.at("2026-12-01 12:00")
    scenario.poll()
    yield scenario
    scenario.close()

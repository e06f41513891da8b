"""A small simulator-fed account shared by the web tests: one ticket at risk, one breached,
one calm, judged at a fixed instant; the application over it, with the webhook on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sla_tracker.judgments import Judgments
from sla_tracker.web.app import WebContext, create_app
from sla_tracker.web.queries import Reader
from sla_tracker.web.webhooks import SyncQueue, incremental_sync
from tests.scenarios import Scenario

SECRET = "hook-secret-value"  # noqa: S105 - test fixtures
TOKEN = "board-token-value"  # noqa: S105


def build_account(tmp_path: Any, **settings: Any) -> Scenario:
    """Mon 30 Nov 2026: #1 blocking since 09:00 (response at risk by 10:30), #2 blocking
    since Friday and never answered (breached), #3 a minor question (no clock at risk)."""
    scenario = Scenario(
        tmp_path, web={"webhook_secret": SECRET, "webhook_debounce_seconds": 0.1, **settings}
    )
    scenario.at("2026-11-27 09:00").ticket(2, "Application inaccessible pour tous")
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.ticket(3, "Faute d'affichage, un contournement existe")
    scenario.at("2026-11-30 10:30").poll()
    Judgments(scenario.engine, scenario.settings, scenario.calendar, scenario.now).refresh()
    return scenario


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def context_of(scenario: Scenario, *, queue: bool = True) -> WebContext:
    sync = (
        SyncQueue(
            incremental_sync(
                scenario.client,
                scenario.engine,
                scenario.settings,
                scenario.calendar,
                lambda: scenario.now,
            ),
            delay=scenario.settings.web.webhook_debounce_seconds,
        )
        if queue
        else None
    )
    reader = Reader(scenario.engine, scenario.settings, scenario.calendar)
    return WebContext(reader, lambda: scenario.now, sync)


@pytest.fixture(scope="module")
def account(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    scenario = build_account(tmp_path_factory.mktemp("web"))
    yield scenario
    scenario.close()


@pytest.fixture(scope="module")
def web(account: Scenario) -> Iterator[TestClient]:
    context = context_of(account, queue=False)
    with TestClient(create_app(context)) as client:
        yield client

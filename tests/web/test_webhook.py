# ruff: noqa: S106  (wrong secrets are what these tests send)
"""Freshdesk's webhook: the secret, bad payloads, order and duplicates, bursts."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from sla_tracker.core.instants import format_instant
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.tables import StatusTransition, table_of
from sla_tracker.storage.web import operator_counts, record_webhook_transition
from sla_tracker.web.app import create_app
from tests.scenarios import Scenario
from tests.web.conftest import SECRET, build_account, context_of

HOOK = "/hooks/freshdesk"
TRANSITIONS = table_of(StatusTransition)


def _stored(scenario: Scenario) -> int:
    with scenario.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(TRANSITIONS)).scalar() or 0)


def _post(web: TestClient, body: Any, secret: str | None = SECRET) -> Any:
    headers = {} if secret is None else {"X-Sla-Tracker-Secret": secret}
    if isinstance(body, (bytes, str)):
        return web.post(HOOK, content=body, headers={**headers, "Content-Type": "application/json"})
    return web.post(HOOK, json=body, headers=headers)


@pytest.fixture(scope="module")
def hooked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Scenario, TestClient]]:
    scenario = build_account(tmp_path_factory.mktemp("hooked"))
    context = context_of(scenario, queue=False)
    with TestClient(create_app(context)) as web:
        yield scenario, web
    scenario.close()


def test_a_missing_or_wrong_secret_stores_nothing(hooked: tuple[Scenario, TestClient]) -> None:
    scenario, web = hooked
    before = _stored(scenario)
    good = {"ticket_id": 1, "status": 3, "updated_at": "2026-11-30T09:40:00Z"}
    assert _post(web, good, secret=None).status_code == 401
    assert _post(web, good, secret="guess").status_code == 403
    assert _post(web, good, secret=SECRET[:-1]).status_code == 403
    answer = _post(web, good, secret="guess")
    assert SECRET not in answer.text
    assert _stored(scenario) == before


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        "[1, 2]",
        {"status": 3, "updated_at": "2026-11-30T09:40:00Z"},
        {"ticket_id": "one", "status": 3, "updated_at": "2026-11-30T09:40:00Z"},
        {"ticket_id": 2**64, "status": 3, "updated_at": "2026-11-30T09:40:00Z"},
        {"ticket_id": 1, "status": "Snoozed", "updated_at": "2026-11-30T09:40:00Z"},
        {"ticket_id": 1, "status": True, "updated_at": "2026-11-30T09:40:00Z"},
        {"ticket_id": 1, "status": 3, "updated_at": "2026-11-30 09:40"},  # no zone
        {"ticket_id": 1, "status": 3},
        {"ticket_id": 1, "status": 3, "updated_at": "2026-12-01T09:20:00Z"},  # after now
        {"ticket_id": 1, "status": 3, "updated_at": "2026-11-30T09:20:00Z", "x": "y" * 70_000},
    ],
    ids=lambda body: repr(body)[:60],
)
def test_a_bad_payload_is_refused_and_stores_nothing(
    hooked: tuple[Scenario, TestClient], body: Any
) -> None:
    scenario, web = hooked
    before = _stored(scenario)
    answer = _post(web, body)
    assert answer.status_code in (400, 413), answer.text
    assert answer.json()["detail"]
    assert _stored(scenario) == before


def test_a_status_name_and_extra_keys_are_accepted(hooked: tuple[Scenario, TestClient]) -> None:
    scenario, web = hooked
    body = {"ticket_id": "1", "status": "Waiting on Customer", "updated_at": "2026-11-30T09:20:00Z",
            "subject": "ignored", "priority": 4}  # fmt: skip
    answer = _post(web, body)
    assert answer.status_code == 202 and answer.json()["recorded"] is True
    assert _post(web, body).json()["recorded"] is False  # the same delivery again
    [report] = [scenario.judge(1)]
    assert [(t.to_status, t.kind) for t in report.transitions][-1] == (6, "webhook")
    assert report.response.state == "paused"  # status 6 pauses in this account


EVENTS = [("2026-11-30 09:40", 3), ("2026-11-30 10:00", 2), ("2026-11-30 10:10", 6),
          ("2026-11-30 10:15", 2), ("2026-11-30 10:40", 4)]  # fmt: skip


def _account(tmp_path: Path, name: str) -> Scenario:
    folder = tmp_path / name
    folder.mkdir()
    scenario = Scenario(folder, web={"webhook_secret": SECRET})
    scenario.at("2026-11-30 09:00").ticket(1)
    scenario.poll()
    return scenario


def _status_history(scenario: Scenario) -> list[tuple[datetime, int]]:
    """The status at every instant: each change once, whatever evidence it came from."""
    history: list[tuple[datetime, int]] = []
    for transition in scenario.judge(1, at="2026-11-30 11:00").transitions:
        if not history or history[-1][1] != transition.to_status:
            history.append((transition.at, transition.to_status))
    return history


def _webhook_rows(scenario: Scenario) -> list[tuple[Any, ...]]:
    with scenario.engine.connect() as connection:
        return sorted(
            tuple(row)
            for row in connection.execute(
                select(TRANSITIONS.c.from_status, TRANSITIONS.c.to_status, TRANSITIONS.c.at).where(
                    TRANSITIONS.c.kind == "webhook"
                )
            )
        )


def test_webhooks_in_any_order_leave_the_history_of_polling(tmp_path: Path) -> None:
    """Polled after every change (the reference), or polled once after deliveries that come
    in order, shuffled, or repeated: the same status at every instant, the same clocks."""
    polled = _account(tmp_path, "polled")
    for at, status in EVENTS:
        polled.at(at).event(1, "status", status)
        polled.poll()
    outcomes = []
    for name, order in (("in-order", EVENTS), ("shuffled", _shuffled(EVENTS))):
        hooked = _account(tmp_path, name)
        deliveries = []
        for at, status in EVENTS:
            hooked.at(at).event(1, "status", status)
            deliveries.append({"ticket_id": 1, "status": status,
                               "updated_at": format_instant(hooked.now)})  # fmt: skip
        web = TestClient(create_app(context_of(hooked, queue=False)))
        for at, status in order:
            [delivery] = [d for (a, s), d in zip(EVENTS, deliveries, strict=True)
                          if (a, s) == (at, status)]  # fmt: skip
            assert _post(web, delivery).status_code == 202
        hooked.at("2026-11-30 10:50").poll()  # the sync the webhooks asked for
        outcomes.append(hooked)
    reference = _status_history(polled)
    assert len(reference) == len(EVENTS) + 1
    once = _account(tmp_path, "polled-once")  # what webhooks add: the pauses between polls
    for at, status in EVENTS:
        once.at(at).event(1, "status", status)
    once.at("2026-11-30 10:50").poll()
    assert len(_status_history(once)) < len(reference)
    for hooked in outcomes:
        assert _status_history(hooked) == reference
        for name in ("response", "restoration"):
            assert getattr(hooked.judge(1, at="2026-11-30 11:00"), name) == getattr(
                polled.judge(1, at="2026-11-30 11:00"), name
            )
    assert _webhook_rows(outcomes[0]) == _webhook_rows(outcomes[1])
    for scenario in (polled, once, *outcomes):
        scenario.close()


def _shuffled(events: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Every delivery at least once, some twice, in a seeded random order."""
    twice = [*events, *events[1::2]]
    random.Random(14).shuffle(twice)
    return twice


def test_a_burst_of_a_thousand_deliveries_costs_a_few_api_calls(tmp_path: Path) -> None:
    """A thousand deliveries, fifty at a time (concurrent writers too), then one sync."""
    scenario = build_account(tmp_path, webhook_debounce_seconds=0.5)
    context = context_of(scenario)
    assert context.sync_queue is not None
    calls = scenario.client.counter.api_calls
    stamp = format_instant(scenario.now)

    async def deliver() -> list[int]:
        transport = httpx.ASGITransport(app=create_app(context))
        async with httpx.AsyncClient(transport=transport, base_url="http://board") as web:

            async def one(number: int) -> int:
                body = {"ticket_id": 1 + number % 3, "status": (2, 3)[number % 2],
                        "updated_at": stamp}  # fmt: skip
                answer = await web.post(HOOK, json=body, headers={"X-Sla-Tracker-Secret": SECRET})
                return answer.status_code

            codes: list[int] = []
            for start in range(0, 1000, 50):
                codes += await asyncio.gather(*(one(n) for n in range(start, start + 50)))
            return codes

    context.sync_queue.start()
    try:
        with ThreadPoolExecutor(1) as thread:  # its own event loop (Playwright may run one here)
            assert set(thread.submit(asyncio.run, deliver()).result()) == {202}
        deadline = time.monotonic() + 15
        while context.sync_queue.syncs == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # a sync still owed would have started by now
    finally:
        context.sync_queue.stop()
    assert 1 <= context.sync_queue.syncs <= 2
    assert scenario.client.counter.api_calls - calls <= 4
    assert context.deliveries["stored"] + context.deliveries["duplicate"] == 1000
    assert len(_webhook_rows(scenario)) == 6  # three tickets, two statuses, one instant
    scenario.close()


def test_the_store_keeps_each_delivery_once_in_any_order(store_url: str) -> None:
    """On SQLite and PostgreSQL: the rows depend on the set of deliveries, not their order."""
    engine = open_store(store_url)
    at = [datetime(2026, 11, 30, hour, tzinfo=UTC) for hour in (9, 10, 11)]
    deliveries = [(at[0], 3), (at[1], 2), (at[2], 4)]
    now = at[2]
    for ticket_id, order in ((1, deliveries), (2, [*reversed(deliveries), deliveries[1]])):
        stored = [record_webhook_transition(engine, ticket_id, status, when, now=now)
                  for when, status in order]  # fmt: skip
        assert stored.count(True) == 3
    with engine.connect() as connection:
        rows = connection.execute(
            select(TRANSITIONS.c.ticket_id, TRANSITIONS.c.from_status, TRANSITIONS.c.to_status,
                   TRANSITIONS.c.at).order_by(TRANSITIONS.c.ticket_id, TRANSITIONS.c.at)
        ).all()  # fmt: skip
    history = [tuple(row[1:]) for row in rows if row[0] == 1]
    assert history == [(None, 3, at[0]), (3, 2, at[1]), (2, 4, at[2])]
    assert [tuple(row[1:]) for row in rows if row[0] == 2] == history
    counts = operator_counts(engine)
    assert counts["breaches_response"] == counts["quarantined"] == counts["syncs_ok"] == 0
    engine.dispose()

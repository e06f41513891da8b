"""The board in a real browser (headless Chromium): a countdown ticking, the way to a ticket's
evidence, and a status change sent by the simulator's webhook reaching the board."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from sla_tracker.helpdesk.freshdesk.simulator.webhooks import WebhookSender
from sla_tracker.web.server import serving_in_background
from tests.scenarios import Scenario
from tests.web.conftest import SECRET, build_account, context_of, free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Scenario, str]]:
    """The board on a loopback port, its clock running from the account's instant."""
    scenario = build_account(tmp_path, refresh_seconds=1)
    started, origin = time.monotonic(), scenario.now
    context = context_of(scenario)
    context.clock = lambda: origin + timedelta(seconds=time.monotonic() - started)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving_in_background(context, address="127.0.0.1", port=port):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        yield scenario, url
    scenario.close()


def _seconds(text: str) -> int:
    """``29 min 58 s`` (the board's countdown) in seconds."""
    units = {"d": 86_400, "h": 3_600, "min": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+) (d|h|min|s)\b", text))


def test_the_board_counts_down_leads_to_the_evidence_and_follows_webhooks(
    browser: Any, served: tuple[Scenario, str]
) -> None:
    scenario, url = served
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.goto(url)
        countdown = page.locator('tr[data-ticket="1"] td[data-clock="response"] .countdown')
        first = _seconds(countdown.inner_text())
        assert 25 * 60 < first <= 30 * 60  # 30 min of the 2 h left at 10:30
        page.wait_for_timeout(1_300)  # a refresh of the rows (every second) included
        assert _seconds(countdown.inner_text()) <= first - 1

        page.click('tr[data-ticket="1"] a')
        page.wait_for_url(f"{url}/tickets/1")
        assert "Evidence for ticket 1" in page.locator("#evidence").inner_text()
        assert "counted: opening hours" in page.locator("#evidence").inner_text()

        page.goto(url)
        response = page.locator('tr[data-ticket="1"] td[data-clock="response"]')
        assert "paused" not in response.inner_text()
        scenario.state.webhook = WebhookSender(f"{url}/hooks/freshdesk", SECRET)
        sent_at = time.monotonic()
        scenario.event(1, "status", 3)  # the agent asks the customer: the clock pauses
        page.wait_for_function(
            """() => document.querySelector('tr[data-ticket="1"] td[data-clock="response"]')
                     .innerText.includes("paused")""",
            timeout=2_000,
        )
        assert time.monotonic() - sent_at < 2
        assert scenario.state.webhook.failed == 0
    finally:
        page.close()
        if scenario.state.webhook is not None:
            scenario.state.webhook.close()

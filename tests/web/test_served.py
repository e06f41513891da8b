"""The board beside the service (``run`` with ``web.enabled``): served on its own thread,
telling /readyz this instance's role; off unless enabled."""

from __future__ import annotations

import time

import pytest
import requests

from sla_tracker.cli.base import Runtime
from sla_tracker.cli.web_command import board_beside_service
from tests.scenarios import Scenario
from tests.web.conftest import free_port


def _runtime(account: Scenario, **web: object) -> Runtime:
    runtime = Runtime(None)
    runtime.settings = account.settings.model_validate(  # type: ignore[misc]
        {**account.settings.model_dump(), "web": web}
    )
    runtime.engine = account.engine  # type: ignore[misc]
    return runtime


def test_the_service_serves_its_board_when_enabled(account: Scenario) -> None:
    port = free_port()
    runtime = _runtime(account, enabled=True, port=port)
    role = ["standby"]
    with board_beside_service(runtime, account.client, lambda: role[0]):
        deadline = time.monotonic() + 10
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert answer.json()["role"] == "standby"
        role[0] = "active"
        assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()["role"] == "active"
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_no_board_unless_enabled(account: Scenario) -> None:
    port = free_port()
    with board_beside_service(_runtime(account, port=port), account.client, str):
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)

"""Alerts end to end over real SMTP: each threshold once, no resend after a restart, failed
sends retried; the webhook; the service's jobs, lock and shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
from click.testing import CliRunner

from sla_tracker.cli import cli
from sla_tracker.service.scheduler import Service, build_scheduler
from sla_tracker.storage.schema import open_store
from tests.conftest import Inbox
from tests.scenarios import Scenario, alert_once, with_smtp


def test_each_threshold_once_then_the_breach(blocked: Scenario, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    with_smtp(blocked, port)
    blocked.at("2026-11-30 10:10")  # response at 58 %
    assert alert_once(blocked) == (1, 1, 0)
    assert alert_once(blocked) == (0, 0, 0)  # nothing twice
    blocked.at("2026-11-30 10:40")  # 83 %
    assert alert_once(blocked) == (1, 1, 0)
    blocked.at("2026-11-30 11:05")  # breached
    assert alert_once(blocked)[0] == 1
    subjects = [plain(message["Subject"]) for _, message in inbox.messages]
    company = "Boulangerie Martin SARL"
    assert subjects == [
        f"[SLA] #1 bloquante — Prise en compte : 50 % du délai consommé — {company}",
        f"[SLA] #1 bloquante — Prise en compte : 80 % du délai consommé — {company}",
        f"[SLA] #1 bloquante — Prise en compte : délai dépassé — {company}",
    ]


def test_an_alert_says_what_to_do_where_and_by_when(
    blocked: Scenario, smtp: tuple[Inbox, int]
) -> None:
    """Severity, company, subject, time left in words and the local deadline, the link."""
    inbox, port = smtp
    with_smtp(blocked, port)
    blocked.settings = blocked.settings.model_validate(
        {**blocked.settings.model_dump(), "freshdesk": {"domain": "acme"}}
    )
    blocked.at("2026-11-30 10:10")
    alert_once(blocked)
    [(_, message)] = inbox.messages
    text = plain(message.get_body(("plain",)).get_content())
    assert "#1 [bloquante] Boulangerie Martin SARL — " in text
    assert "reste 50 min ouvrées, échéance lun. 30 nov. 11:00 (dans 50 min)" in text
    assert "https://acme.freshdesk.com/a/tickets/1" in text
    html = message.get_body(("html",)).get_content()
    assert 'href="https://acme.freshdesk.com/a/tickets/1"' in html


def test_alerts_due_together_go_out_as_one_digest_unless_configured_otherwise(
    blocked: Scenario, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with_smtp(blocked, port)
    blocked.at("2026-11-30 10:40")  # 50 % and 80 % crossed since the last run
    assert alert_once(blocked) == (2, 2, 0)
    [(_, digest)] = inbox.messages
    assert "80 % du délai consommé" in plain(digest["Subject"])  # the strongest is shown
    blocked.at("2026-11-30 11:05")
    with_smtp(blocked, port, digest=False)
    blocked.ticket(2)
    blocked.poll()
    blocked.at("2026-11-30 12:00")
    new, sent, _ = alert_once(blocked)
    assert new == sent and len(inbox.messages) == 1 + sent  # one message per alert


def plain(text: str) -> str:
    """Spaces for the no-break spaces French typography puts before a colon, in ``3 h``."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_a_restart_never_resends(
    blocked: Scenario, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    with_smtp(blocked, port)
    blocked.at("2026-11-30 10:10")
    alert_once(blocked)
    blocked.engine = open_store(
        f"sqlite:///{tmp_path / 'scenario.db'}"
    )  # a new process, same store
    assert alert_once(blocked) == (0, 0, 0) and len(inbox.messages) == 1


def test_a_failed_send_is_retried_on_the_next_run(
    blocked: Scenario, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    with_smtp(blocked, 1)  # nothing listens on port 1
    blocked.at("2026-11-30 10:10")
    assert alert_once(blocked) == (1, 0, 1)
    with_smtp(blocked, port)
    assert alert_once(blocked) == (0, 1, 0) and len(inbox.messages) == 1


@responses.activate
def test_the_webhook_gets_slack_compatible_json(blocked: Scenario, smtp: tuple[Inbox, int]) -> None:
    _, port = smtp
    responses.add_passthru("http://127.0.0.1")
    hook = responses.post("https://hooks.example/alerts", json={"ok": True})
    with_smtp(blocked, port, webhook_url="https://hooks.example/alerts")
    blocked.at("2026-11-30 10:10")
    alert_once(blocked)
    body = json.loads(hook.calls[0].request.body)
    assert body["text"].startswith("[SLA] #1") and body["event"]["threshold"] == 50


def test_the_service_has_four_single_coalesced_jobs_and_survives_a_failing_one(
    blocked: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    frozen = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
    service = Service(
        blocked.settings, blocked.engine, blocked.calendar, blocked.client, lambda: frozen
    )
    scheduler = build_scheduler(service)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"sync", "reconcile", "weekly_report", "verify"}
    assert all(
        job.max_instances == 1 and job.coalesce and job.misfire_grace_time == 300
        for job in jobs.values()
    )
    caplog.set_level("INFO", logger="sla_tracker.service")
    service.run_job("sync", service.sync_and_alert)
    service.run_job("broken", lambda now: 1 / 0)  # type: ignore[arg-type,return-value]
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith("job=sync outcome=ok duration=") and "alerts_new=1" in lines[0]
    assert lines[1].startswith("job=broken outcome=error") and lines[1].endswith(
        "reason=division by zero"
    )


HOLDER = """
import sys, time
from sla_tracker.storage.schema import open_store
from sla_tracker.storage.locks import service_lock
engine = open_store(sys.argv[1])
with service_lock(engine, holder=sys.argv[2], poll_seconds=0.2, on_standby=lambda: print("standby", flush=True)):
    print("active", flush=True)
    time.sleep(60)
"""


def test_a_standby_takes_over_when_the_active_instance_is_killed_on_postgresql(
    postgres_url: str,
) -> None:
    url = postgres_url
    open_store(url)  # schema first, so both processes only take the lock
    env = {**os.environ}
    first = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, "first"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert first.stdout and first.stdout.readline().strip() == "active"
    second = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, "second"], stdout=subprocess.PIPE, text=True, env=env
    )
    assert second.stdout and second.stdout.readline().strip() == "standby"
    first.send_signal(signal.SIGKILL)
    first.wait()
    started = time.monotonic()
    line = second.stdout.readline().strip()
    while line == "standby":
        line = second.stdout.readline().strip()
    assert line == "active" and time.monotonic() - started < 5
    second.kill()
    second.wait()


def test_check_config_says_when_alerts_have_nowhere_to_go(tmp_path: Path) -> None:
    config = tmp_path / "sla-tracker.toml"
    config.write_text("", encoding="utf-8")
    said = CliRunner().invoke(cli, ["--config", str(config), "check-config"]).output
    assert "no alert channel configured: alerts are recorded but never sent" in said
    config.write_text('[smtp]\nrecipients = ["lead@koban.example"]\n', encoding="utf-8")
    said = CliRunner().invoke(cli, ["--config", str(config), "check-config"]).output
    assert said.startswith("OK") and "alert channel" not in said

"""Alerts and the weekly report delivered at least once, never as two different messages.

The fault matrix runs real processes (``sla-tracker run``, ``report weekly --send``) against a
real SMTP server and a real webhook receiver on loopback, killed with SIGKILL while the
receiver holds its answer: before it accepted (DATA held) and after it accepted (QUIT held).
Every retry must carry the Message-ID or idempotency key recorded before the first try.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from pydantic import ValidationError
from sqlalchemy import select

from sla_tracker.cli import cli
from sla_tracker.config import Settings
from sla_tracker.delivery.smtp import MailError
from sla_tracker.reports.weekly import ReportError
from sla_tracker.service.scheduler import Service, due_report_week
from sla_tracker.storage.alerts import EVENTS
from sla_tracker.storage.reports import RUNS
from tests.delivery_faults import HookServer, StallingInbox, Tracker, smtp_config, smtp_server
from tests.scenarios import Scenario, alert_once, with_smtp

PARIS = ZoneInfo("Europe/Paris")
SEND = ["report", "weekly", "--week", "2026-W48", "--send"]
WEDNESDAY = "2026-12-02T10:00:00+01:00"  # W48's report was due on Monday at 08:00


def service_config(scenario: Scenario, port: int, tmp_path: Path, extra: str = "") -> Path:
    """The service on the scenario's simulator and database, mailing through ``port``."""
    freshdesk = (
        f'[freshdesk]\nbase_url = "{scenario.simulator.url}"\ncalls_per_minute = 100000\n'
        "[sync]\nstart_date = 2026-01-01\n"
    )
    return smtp_config(tmp_path / "service.toml", tmp_path / "scenario.db", port, freshdesk + extra)


def environment(now: str) -> dict[str, str]:
    return {**os.environ, "SLA_TRACKER_NOW": now, "SLA_TRACKER_FRESHDESK_API_KEY": "sim-key"}


def command(config: Path, args: list[str]) -> Result:
    """A one-shot command in this process, on Wednesday 2 December."""
    return CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"SLA_TRACKER_NOW": WEDNESDAY}
    )


def with_webhook(scenario: Scenario, url: str) -> None:
    """Alerts by webhook only."""
    alerts = {"thresholds": [50, 80], "webhook_url": url}
    scenario.settings = Settings.model_validate(
        {**scenario.settings.model_dump(), "alerts": alerts}
    )


def events(scenario: Scenario) -> list[dict[str, Any]]:
    with scenario.engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(EVENTS)).mappings()]


def reports(scenario: Scenario) -> list[dict[str, Any]]:
    with scenario.engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(RUNS)).mappings()]


# --- alerts -------------------------------------------------------------------------------


def test_an_alert_killed_mid_smtp_exchange_is_sent_again_under_its_message_id(
    blocked: Scenario,
    tmp_path: Path,
) -> None:
    inbox = StallingInbox(stall="DATA")  # the message arrives, its 250 is held: kill then
    env = environment("2026-11-30T10:10:00+01:00")  # response clock at 58 %: one alert
    with smtp_server(inbox) as port:
        config = service_config(blocked, port, tmp_path)
        Tracker(config, ["run"], env).kill_when(inbox.stalled)
        [event] = events(blocked)
        assert event["email_message_id"] and event["email_sent_at"] is None  # intent, unsent
        restarted = Tracker(config, ["run"], env)
        restarted.wait_for("job=sync outcome=ok")
        output = restarted.stop()
    assert "alerts_new=0 alerts_sent=1" in output
    assert inbox.message_ids == [event["email_message_id"]] * 2  # at least once, one identity
    [event] = events(blocked)
    assert event["email_sent_at"] is not None and event["attempts"] == 0


def test_a_webhook_killed_mid_request_is_posted_again_with_its_idempotency_key(
    blocked: Scenario,
    tmp_path: Path,
) -> None:
    inbox = StallingInbox()
    env = environment("2026-11-30T10:10:00+01:00")
    with HookServer(stall=True) as hook, smtp_server(inbox) as port:
        config = service_config(blocked, port, tmp_path, f'[alerts]\nwebhook_url = "{hook.url}"\n')
        Tracker(config, ["run"], env).kill_when(hook.stalled)
        restarted = Tracker(config, ["run"], env)
        restarted.wait_for("job=sync outcome=ok")
        restarted.stop()
    first, retry = (body for _, _, _, body in hook.requests)
    assert first == retry and first["idempotency_key"].startswith("sla-tracker-alert-1-")
    assert first["text"].startswith("[SLA] #1")  # still what Slack and Teams read
    assert len(inbox.messages) == 1  # the e-mail was confirmed before the kill: not resent
    [event] = events(blocked)
    assert event["webhook_key"] == first["idempotency_key"] and event["webhook_sent_at"]


def test_webhook_retries_carry_the_same_idempotency_key(
    blocked: Scenario,
) -> None:
    with HookServer([500, 503]) as hook:
        with_webhook(blocked, hook.url)
        blocked.at("2026-11-30 10:10")
        assert alert_once(blocked) == (1, 0, 1)
        assert alert_once(blocked) == (0, 0, 1)
        assert alert_once(blocked) == (0, 1, 0)
        assert alert_once(blocked) == (0, 0, 0)
    keys = {
        (body["idempotency_key"], headers["Idempotency-Key"])
        for _, _, headers, body in hook.requests
    }
    [(key, header)] = keys
    assert key == header and len(hook.requests) == 3
    [event] = events(blocked)
    assert event["attempts"] == 2 and event["last_error"] == "the webhook answered 503"


def test_a_webhook_answering_302_is_not_followed(blocked: Scenario) -> None:
    with HookServer([302]) as hook:
        with_webhook(blocked, hook.url)
        blocked.at("2026-11-30 10:10")
        assert alert_once(blocked) == (1, 0, 1)
    assert [(method, path) for method, path, _, _ in hook.requests] == [("POST", "/alerts")]
    [event] = events(blocked)
    assert event["webhook_sent_at"] is None
    assert event["last_error"] == "the webhook answered 302 (redirects are not followed)"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://hooks.example/a",
        "gopher://x",
        "https:///no-host",
        "hooks.example/a",
    ],
)
def test_a_webhook_url_that_is_not_http_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="expected an http:// or https:// URL"):
        Settings.model_validate({"alerts": {"webhook_url": url}})
    config = tmp_path / "hook.toml"
    config.write_text(f'[alerts]\nwebhook_url = "{url}"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "check-config"])
    assert result.exit_code == 1 and "alerts.webhook_url" in result.output


# --- the weekly report --------------------------------------------------------------------


@pytest.mark.parametrize(
    "stall",
    [
        "DATA",  # killed before the server accepted it
        "QUIT",  # killed after the server accepted it, before the record says so
    ],
)
def test_a_report_killed_mid_send_is_sent_again_as_recorded_never_as_a_new_report(
    stall: str,
    week: Scenario,
    tmp_path: Path,
) -> None:
    inbox = StallingInbox(stall=stall)
    env = environment(WEDNESDAY)
    with smtp_server(inbox) as port:
        config = smtp_config(tmp_path / "report.toml", tmp_path / "scenario.db", port)
        Tracker(config, SEND, env).kill_when(inbox.stalled)
        [run] = reports(week)
        assert run["sent_at"] is None and run["message_id"] == inbox.message_ids[0]
        status = command(config, ["status"]).output
        pending = f"Weekly report: 2026-W48 PENDING: recorded Wed, 2 Dec 2026 10:00 as {run['message_id']}"
        assert pending in status
        code, output = Tracker(config, SEND, env).finish()
        assert code == 0 and "Sent again the report of 2026-W48" in output, output
        again = command(config, SEND)
        assert again.exit_code == 1 and "already sent" in again.output
    first, retry = inbox.messages
    assert inbox.message_ids == [run["message_id"]] * 2
    assert first.as_bytes() == retry.as_bytes()  # the recorded message, not a new rendering
    [run] = reports(week)
    assert run["sent_at"] is not None and run["copy_number"] == 0


def test_the_service_started_after_a_missed_monday_sends_that_week_once(
    week: Scenario,
    tmp_path: Path,
) -> None:
    inbox = StallingInbox()
    env = environment(WEDNESDAY)
    with smtp_server(inbox) as port:
        config = service_config(week, port, tmp_path)
        status = command(config, ["status"]).output
        assert "Weekly report: 2026-W48 NOT SENT (due Mon, 30 Nov 2026 08:00)" in status
        service = Tracker(config, ["run"], env)
        service.wait_for("job=weekly_report outcome=ok")
        service.stop()
        restarted = Tracker(config, ["run"], env)  # owes nothing now
        restarted.wait_for("job=sync outcome=ok")
        assert "job=weekly_report" not in restarted.stop()
        status = command(config, ["status"]).output
    [run] = reports(week)
    assert f"Weekly report: 2026-W48 sent Wed, 2 Dec 2026 10:00 ({run['message_id']})" in status
    [report] = [m for m in inbox.messages if str(m["Subject"]).startswith("Rapport SLA")]
    assert str(report["Subject"]).startswith("Rapport SLA hebdomadaire — 2026-W48")
    assert report["Message-ID"] == run["message_id"]


def test_an_smtp_outage_leaves_the_report_pending_and_a_later_run_sends_it_unchanged(
    week: Scenario,
    tmp_path: Path,
) -> None:
    inbox = StallingInbox()
    now = datetime(2026, 11, 30, 8, 0, tzinfo=PARIS)
    with smtp_server(inbox) as port:
        with_smtp(week, 1)  # nothing listens on port 1
        down = Service(week.settings, week.engine, week.calendar, week.client, lambda: now)
        with pytest.raises(MailError, match=r"cannot send through SMTP server 127\.0\.0\.1:1"):
            down.weekly_report(now)
        [run] = reports(week)
        assert run["sent_at"] is None and run["attempts"] == 1
        with_smtp(week, port)
        up = Service(week.settings, week.engine, week.calendar, week.client, lambda: now)
        assert up.weekly_report(now) == {
            "week": "2026-W48",
            "message_id": run["message_id"],
            "resent": True,
        }
        with pytest.raises(ReportError, match="already sent"):
            up.weekly_report(now)
    assert inbox.message_ids == [run["message_id"]]


def test_the_week_owed_is_the_last_whose_report_time_has_passed(week: Scenario) -> None:
    def owed(text: str) -> tuple[str, datetime] | None:
        at = datetime.fromisoformat(text).replace(tzinfo=PARIS)
        return due_report_week(week.engine, week.settings, week.calendar, at)

    monday_8 = datetime(2026, 11, 30, 8, 0, tzinfo=PARIS)
    assert owed("2026-11-30T07:59") is None  # W47's time passed before the first sync
    assert owed("2026-11-30T08:00") == ("2026-W48", monday_8)
    assert owed("2026-12-06T23:59") == ("2026-W48", monday_8)
    assert owed("2026-12-07T08:00")[0] == "2026-W49"  # type: ignore[index]

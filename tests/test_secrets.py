"""Secrets stay secret: credentials inside URLs are masked in messages, log lines and the
stored sync errors; the API key never shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy
from click.testing import CliRunner

from sla_tracker.cli import cli

SECRET = "SECRET-VALUE"  # noqa: S105 - a marker to look for, not a credential
ENV = {"SLA_TRACKER_NOW": "2026-11-30T12:00:00Z", "SLA_TRACKER_FRESHDESK_API_KEY": "KEY-VALUE"}


def test_credentials_in_the_freshdesk_url_appear_in_no_output_log_or_sync_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "sla-tracker.db"
    config = tmp_path / "sla-tracker.toml"
    config.write_text(
        f'[freshdesk]\nbase_url = "http://agent:{SECRET}@127.0.0.1:9/"\nmax_retries = 0\n'
        f'[sync]\nstart_date = 2026-01-01\n[database]\nurl = "sqlite:///{database}"\n',
        encoding="utf-8",
    )
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(cli, ["--config", str(config), "sync"], env=ENV)
    assert (
        result.exit_code == 1 and "Error:" in result.output and "***@127.0.0.1:9" in result.output
    )
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    with engine.connect() as connection:
        [errors] = connection.execute(sqlalchemy.text("SELECT errors FROM sync_run")).scalars()
    engine.dispose()
    assert "***@127.0.0.1:9" in errors
    for text in (result.output, caplog.text, errors):
        assert SECRET not in text and "KEY-VALUE" not in text


def test_a_log_line_carrying_a_url_with_credentials_is_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert CliRunner().invoke(cli, ["calendar", "list"]).exit_code == 0
    logging.getLogger("sla_tracker.alerts").warning(
        "webhook %s failed", f"https://bot:{SECRET}@hooks.example.com/x"
    )
    assert SECRET not in caplog.text and "https://***@hooks.example.com/x" in caplog.text


def test_a_logged_traceback_carrying_a_url_with_credentials_is_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert CliRunner().invoke(cli, ["calendar", "list"]).exit_code == 0
    try:
        raise ConnectionError(f"cannot reach https://bot:{SECRET}@hooks.example.com/x")
    except ConnectionError:
        logging.getLogger("apscheduler.executors").exception("job failed")
    assert SECRET not in caplog.text and "ConnectionError: cannot reach https://***@" in caplog.text


def test_a_database_password_is_masked_when_the_database_cannot_be_opened(
    tmp_path: Path,
) -> None:
    config = tmp_path / "sla-tracker.toml"
    config.write_text(
        f'[database]\nurl = "postgresql+psycopg://sla:{SECRET}@127.0.0.1:9/sla"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "tickets"], env=ENV)
    assert result.exit_code == 1 and "Error:" in result.output and SECRET not in result.output


def test_a_mistyped_secret_key_is_refused_by_every_command_without_its_value(
    tmp_path: Path,
) -> None:
    config = tmp_path / "sla-tracker.toml"
    config.write_text(
        f'[freshdesk]\napikey = "{SECRET}"\n[smtp]\npasswd = "{SECRET}"\n', encoding="utf-8"
    )
    for args in (["check-config"], ["tickets"], ["sync"], ["status"]):
        result = CliRunner().invoke(cli, ["--config", str(config), *args], env=ENV)
        assert result.exit_code == 1 and "freshdesk.apikey = (secret): unknown key" in result.output
        assert "smtp.passwd = (secret)" in result.output and SECRET not in result.output

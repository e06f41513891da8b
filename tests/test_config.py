"""Settings: the example file and the model agree both ways; errors name file, key and fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from sla_tracker.cli import cli
from sla_tracker.config import (
    ConfigError,
    Settings,
    current_instant,
    find_config_file,
    load_settings,
    redact,
)
from tests.conftest import ROOT

EXAMPLE = ROOT / "config.example.toml"
SECTION = re.compile(r"^\[(\w+)\]")
RULE_LIST = re.compile(r"^\[\[(\w+\.\w+)\]\]")
KEY_LINE = re.compile(r"^(#\s*)?(\w+)\s*=\s*(.+)$")


def _example_keys() -> dict[str, tuple[bool, str]]:
    """section.key → (is commented out, the rest of the line)."""
    keys: dict[str, tuple[bool, str]] = {}
    section = ""
    previous = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := RULE_LIST.match(line):  # [[classification.severity]]: a documented list
            keys.setdefault(match.group(1), (False, previous if previous.startswith("#") else ""))
            section = ""
        elif match := SECTION.match(line):
            section = match.group(1)
        elif section and (match := KEY_LINE.match(line)):
            keys[f"{section}.{match.group(2)}"] = (bool(match.group(1)), match.group(3))
        if not line.startswith("[["):
            previous = line
    return keys


def _model_keys() -> dict[str, object]:
    return {
        f"{section}.{key}": field.default
        for section, model in Settings.model_fields.items()
        if section != "source"
        for key, field in model.annotation.model_fields.items()  # type: ignore[union-attr]
    }


def test_every_setting_is_documented_in_the_example() -> None:
    missing = set(_model_keys()) - set(_example_keys())
    assert not missing, f"add to config.example.toml: {sorted(missing)}"


def test_every_example_key_is_a_setting() -> None:
    unknown = set(_example_keys()) - set(_model_keys())
    assert not unknown, f"config.example.toml documents unknown keys: {sorted(unknown)}"


def test_every_example_key_has_a_comment() -> None:
    for key, (_, rest) in _example_keys().items():
        assert "#" in rest, f"{key} needs a one-line comment in config.example.toml"


def test_example_values_are_the_defaults() -> None:
    example = load_settings(EXAMPLE, environ={})
    assert example.model_dump() == Settings().model_dump()


def test_commented_keys_are_the_unset_ones() -> None:
    defaults = _model_keys()
    for key, (commented, _) in _example_keys().items():
        assert commented == (defaults[key] is None), f"{key}: comment out exactly the unset keys"


def test_spec_defaults() -> None:
    settings = Settings()
    assert settings.calendar.name == "fr-support"
    assert settings.sla.accepted_source_ids == {1, 2, 7, 9}
    assert (settings.response.blocking_hours, settings.response.major_hours) == (2, 4)
    assert settings.response.minor_internal_hours is None
    assert settings.restoration.target_hours == 72
    assert settings.restoration.restored_statuses == (4, 5)
    assert settings.pause.statuses == (3,) and settings.pause.ends_on_customer_reply
    assert settings.alerts.thresholds == (50, 80)
    assert (settings.indemnity.basis, settings.indemnity.overlap) == ("calendar", "union")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sla-tracker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_value_names_file_key_value_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, '[indemnity]\nbasis = "hourly"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert (
        str(error.value) == f"{path}: indemnity.basis = 'hourly': expected 'calendar' or 'business'"
    )


def test_an_unknown_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[pause]\nstatus = [3]\n")
    with pytest.raises(ConfigError, match=r"pause\.status = \[3\]: unknown key"):
        load_settings(path, environ={})


def test_an_unknown_source_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, '[sla]\naccepted_sources = ["email", "fax"]\n')
    with pytest.raises(ConfigError, match="unknown source 'fax'; use one of email, portal"):
        load_settings(path, environ={})


def test_a_naive_enforce_from_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "[sla]\nenforce_from = 2026-01-01T00:00:00\n")
    with pytest.raises(ConfigError, match=r"sla\.enforce_from.*timezone"):
        load_settings(path, environ={})


def test_broken_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[sla\n")
    with pytest.raises(ConfigError, match=rf"{re.escape(str(path))}: not valid TOML: .*line 1"):
        load_settings(path, environ={})


def test_a_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert find_config_file(None, {}) is None
    write(tmp_path, "")
    assert find_config_file(None, {}) == Path("sla-tracker.toml")
    assert find_config_file(None, {"SLA_TRACKER_CONFIG": "/etc/x.toml"}) == Path("/etc/x.toml")
    assert find_config_file("given.toml", {"SLA_TRACKER_CONFIG": "/etc/x.toml"}) == Path(
        "given.toml"
    )


def test_secrets_come_from_the_environment_and_stay_masked(tmp_path: Path) -> None:
    path = write(tmp_path, '[freshdesk]\napi_key = "from-file"\n')
    settings = load_settings(path, environ={"SLA_TRACKER_FRESHDESK_API_KEY": "s3cr3t-key"})
    assert settings.freshdesk.api_key is not None
    assert settings.freshdesk.api_key.get_secret_value() == "s3cr3t-key"
    assert "s3cr3t-key" not in repr(settings) and "s3cr3t-key" not in str(settings)


def test_secrets_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("hunter2\n", encoding="utf-8")
    settings = load_settings(None, environ={"SLA_TRACKER_SMTP_PASSWORD_FILE": str(secret)})
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "hunter2"


def test_an_unreadable_secret_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\$SLA_TRACKER_SMTP_PASSWORD_FILE: cannot read"):
        load_settings(None, environ={"SLA_TRACKER_SMTP_PASSWORD_FILE": str(tmp_path / "none")})


def test_a_bad_secret_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, "[freshdesk]\napi_key = 12345678\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert "12345678" not in str(error.value) and "(secret)" in str(error.value)


def test_now_can_be_overridden_for_replays() -> None:
    assert current_instant({"SLA_TRACKER_NOW": "2026-11-27T16:30:00+01:00"}).isoformat() == (
        "2026-11-27T15:30:00+00:00"
    )


def test_a_naive_now_override_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"\$SLA_TRACKER_NOW: .* has no time zone"):
        current_instant({"SLA_TRACKER_NOW": "2026-11-27T16:30:00"})


def test_example_parses_as_toml() -> None:
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def test_a_bad_rule_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, '[[classification.severity]]\nname = "urgent-tag"\nvalue = "urgent"\n')
    with pytest.raises(
        ConfigError, match=r"severity rule 'urgent-tag': value 'urgent' is not one of blocking"
    ):
        load_settings(path, environ={})


def test_a_bad_rule_condition_is_located_by_the_rules_name(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[classification.severity]]\nname = "p4"\nvalue = "blocking"\npriority = ["high"]\n',
    )
    with pytest.raises(
        ConfigError, match=r"classification\.severity\[p4\]\.priority\[0\] = 'high'"
    ):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[schedule]\ntimezone = "Europe/Pariss"', "unknown time zone 'Europe/Pariss'"),
        ('[schedule]\ntimezone = "../etc"', "unknown time zone '../etc'"),
        ('[schedule]\ntimezone = ""', "unknown time zone ''"),
        ('[database]\nurl = "mysql://db.example/sla"', "expected sqlite:///FILE or postgresql"),
        ('[database]\nurl = "postgresql+psycopg2://db/sla"', "expected sqlite:///FILE"),
        ('[database]\nurl = "sla-tracker.db"', "not a database URL"),
        ("[response]\nblocking_hours = nan", "response.blocking_hours = nan: expected a finite"),
        ("[response]\nmajor_hours = inf", "response.major_hours = inf: expected a finite"),
        ("[response]\nblocking_hours = 0", "response.blocking_hours = 0: expected greater than 0"),
        (
            "[response]\nminor_internal_hours = -4.0",
            "minor_internal_hours = -4.0: expected greater",
        ),
        (
            "[restoration]\ntarget_hours = -inf",
            "restoration.target_hours = -inf: expected a finite",
        ),
        ("[schedule]\nsync_minutes = 0", "schedule.sync_minutes = 0: expected greater than 0"),
        ("[schedule]\nsync_minutes = 100000", "sync_minutes = 100000: expected less than or equal"),
        ("[schedule]\nstandby_poll_seconds = inf", "standby_poll_seconds = inf: expected a finite"),
        ("[sync]\nreconcile_minutes = 100000", "sync.reconcile_minutes = 100000: expected less"),
        ("[sync]\nlock_wait_seconds = nan", "sync.lock_wait_seconds = nan: expected a finite"),
        (
            "[freshdesk]\ntimeout_seconds = inf",
            "freshdesk.timeout_seconds = inf: expected a finite",
        ),
        ("[freshdesk]\ncalls_per_minute = 0", "freshdesk.calls_per_minute = 0: expected greater"),
        ('[alerts]\nwebhook_url = "file:///etc/passwd"', "expected an http:// or https:// URL"),
        ('[alerts]\nwebhook_url = "hooks.example.com/x"', "expected an http:// or https:// URL"),
        (
            '[freshdesk]\nbase_url = "file:///etc/passwd"',
            "base_url = 'file:///etc/passwd': expected",
        ),
        ("[sync]\nstart_date = 0001-01-01", "sync.start_date = 0001-01-01: expected a date within"),
        ("[sync]\nstart_date = 9999-12-31", "sync.start_date = 9999-12-31: expected a date within"),
        ("[sla]\nenforce_from = 0001-01-01T00:00:00Z", "sla.enforce_from = 0001-01-01T00:00:00"),
    ],
)
def test_check_config_catches_what_would_fail_later(
    tmp_path: Path, toml: str, expected: str
) -> None:
    path = write(tmp_path, toml + "\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"], env={})
    assert (result.exit_code, result.exception.__class__) == (1, SystemExit), result.output
    assert f"Error: {path}: " in result.output and expected in result.output


@pytest.mark.parametrize(
    "url",
    ["sqlite:///sla-tracker.db", "postgresql+psycopg://sla@db/sla", "postgresql://sla@db/sla"],
)
def test_sqlite_and_postgresql_urls_are_accepted(tmp_path: Path, url: str) -> None:
    assert load_settings(write(tmp_path, f'[database]\nurl = "{url}"\n'), environ={})


@pytest.mark.parametrize(
    "toml",
    [
        '[freshdesk]\napikey = "SECRET-VALUE"',
        '[freshdesk]\napi-key = "SECRET-VALUE"',
        '[smtp]\npasswd = "SECRET-VALUE"',
        '[smtp]\nPassword = "SECRET-VALUE"',
        'freshdesk = "SECRET-VALUE"',
        '[smtp]\npassword = ["SECRET-VALUE"]',
    ],
)
def test_a_mistyped_secret_is_refused_without_its_value(tmp_path: Path, toml: str) -> None:
    path = write(tmp_path, toml + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert "SECRET-VALUE" not in str(error.value) and "(secret)" in str(error.value)


@pytest.mark.parametrize(
    "toml",
    [
        '[database]\nurl = "mysql://admin:SECRET-VALUE@db.example/sla"',
        '[database]\nurl = "mysql://db/sla?password=SECRET-VALUE&x=1"',
        '[alerts]\nwebhook_url = "ftp://bot:SECRET-VALUE@hooks.example.com/x"',
        '[alerts]\nwebhook_url = "ftp://SECRET-VALUE@hooks.example.com/x"',
    ],
)
def test_credentials_in_a_refused_url_are_masked(tmp_path: Path, toml: str) -> None:
    path = write(tmp_path, toml + "\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert "SECRET-VALUE" not in str(error.value) and "***" in str(error.value)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "connection to http://user:pw@127.0.0.1:9 failed",
            "connection to http://***@127.0.0.1:9 failed",
        ),
        ("'postgresql+psycopg://sla:pw@db/sla'", "'postgresql+psycopg://***@db/sla'"),
        ("https://KEY@acme.freshdesk.com/api/v2", "https://***@acme.freshdesk.com/api/v2"),
        ("db?user=sla&password=pw&sslmode=require", "db?user=sla&password=***&sslmode=require"),
        ("http://host/path@version and mailto:a@b.c", "http://host/path@version and mailto:a@b.c"),
    ],
)
def test_redact_masks_credentials_in_urls(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_a_config_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "sla-tracker.toml"
    path.write_bytes("[report]\nlanguage = 'fr'  # café\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"sla-tracker\.toml: not UTF-8 text .*save it as UTF-8"):
        load_settings(path, environ={})


def test_a_secret_file_that_is_not_utf8_is_named_not_quoted(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_bytes(b"\xffSECRET-VALUE")
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={"SLA_TRACKER_FRESHDESK_API_KEY_FILE": str(secret)})
    assert "not UTF-8 text" in str(error.value) and "SECRET-VALUE" not in str(error.value)


def test_check_config_names_a_missing_database_folder(tmp_path: Path) -> None:
    path = write(tmp_path, f'[database]\nurl = "sqlite:///{tmp_path / "nope" / "x.db"}"\n')
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"], env={})
    assert result.exit_code == 1
    assert f"database.url: the folder {tmp_path / 'nope'} does not exist" in result.output
    assert not (tmp_path / "nope").exists()

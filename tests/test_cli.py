"""The command line: exact outputs of the documented examples, and clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sla_tracker.cli import cli


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_deadline_json() -> None:
    assert run("calendar", "deadline", "2026-11-27T15:30:00Z", "2", "--json") == (
        0,
        '{"deadline": "2026-11-30T09:30:00Z"}\n',
    )


def test_deadline_shows_local_time_for_people() -> None:
    assert run("calendar", "deadline", "2026-11-27T15:30:00Z", "2") == (
        0,
        "2026-11-30T09:30:00Z (Mon 30 Nov 2026 10:30 Europe/Paris)\n",
    )


def test_deadline_takes_decimal_hours() -> None:
    _, output = run("calendar", "deadline", "2026-11-30T09:00:00+01:00", "0.5", "--json")
    assert json.loads(output) == {"deadline": "2026-11-30T08:30:00Z"}


def test_between_json() -> None:
    code, output = run(
        "calendar", "between", "2026-01-01T00:00:00+01:00", "2027-01-01T00:00:00+01:00", "--json"
    )
    assert (code, json.loads(output)) == (0, {"business_seconds": 7988400})


def test_between_for_people() -> None:
    assert run("calendar", "between", "2026-11-30T08:00:00Z", "2026-11-30T10:30:15Z")[1] == (
        "9015 business seconds (2 h 30 min 15 s)\n"
    )


def test_another_calendar_by_name() -> None:
    _, output = run(
        "calendar", "between", "2026-04-03T00:00:00+02:00", "2026-04-04T00:00:00+02:00",
        "--calendar", "fr-support-alsace-moselle", "--json",
    )  # fmt: skip
    assert json.loads(output) == {"business_seconds": 0}  # Good Friday


def test_naive_instants_are_refused_with_the_reason() -> None:
    code, output = run("calendar", "deadline", "2026-11-27T15:30:00", "2")
    assert code == 2
    assert "'2026-11-27T15:30:00' has no time zone; add Z or an offset" in output


def test_bad_hours() -> None:
    code, output = run("calendar", "deadline", "2026-11-27T15:30:00Z", "two")
    assert code == 2 and "'two' is not a number of hours" in output


def test_unknown_calendar_is_an_error_without_traceback() -> None:
    code, output = run("calendar", "show", "2026-05", "--calendar", "nope")
    assert code == 1
    assert output.startswith("Error: unknown calendar 'nope' (known: fr-support")
    assert "Traceback" not in output


def test_a_broken_config_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[indemnity]\noverlap = "max"\n', encoding="utf-8")
    code, output = run("--config", str(config), "check-config")
    assert (code, output) == (
        1,
        f"Error: {config}: indemnity.overlap = 'max': expected 'union' or 'sum'\n",
    )


def test_check_config_with_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = run("check-config")
    assert (code, output.splitlines()[0]) == (
        0,
        "OK: built-in defaults (calendar fr-support, Europe/Paris)",
    )
    assert "Note: no alert channel configured" in output  # alerts would never leave


def test_show_lists_windows_and_named_holidays() -> None:
    code, output = run("calendar", "show", "2026-05")
    assert code == 0
    assert "2026-05-14" in output and "Ascension" in output
    assert "closed — Lundi de Pentecôte" in output
    # 14 open Mon–Thu × 9 h + 3 open Fridays × 8 h (1, 8, 14 and 25 May are holidays)
    assert "150 h" in output


def test_show_month_total_matches_the_engine() -> None:
    _, between = run(
        "calendar", "between", "2026-05-01T00:00:00+02:00", "2026-06-01T00:00:00+02:00", "--json"
    )
    assert json.loads(between)["business_seconds"] == 150 * 3600


def test_show_refuses_a_bad_month() -> None:
    code, output = run("calendar", "show", "2026-13")
    assert code == 2 and "use YYYY-MM" in output


def test_ics_lists_the_closures(tmp_path: Path) -> None:
    out = tmp_path / "closures.ics"
    code, _ = run(
        "calendar",
        "ics",
        "2026",
        "--out",
        str(out),
        env={"SLA_TRACKER_NOW": "2026-11-26T12:00:00Z"},
    )
    text = out.read_text(encoding="utf-8")
    assert code == 0 and text.startswith("BEGIN:VCALENDAR")
    assert text.count("BEGIN:VEVENT") == 11
    assert "DTSTART;VALUE=DATE:20260514" in text and "DTSTAMP:20261126T120000Z" in text


def test_calendar_list() -> None:
    assert "fr-support-alsace-moselle" in run("calendar", "list")[1]


def test_a_bad_now_override_is_an_error() -> None:
    code, output = run("calendar", "ics", "2026", env={"SLA_TRACKER_NOW": "yesterday"})
    assert code == 1 and output.startswith("Error: $SLA_TRACKER_NOW: 'yesterday' is not")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command and subcommand, the lazily loaded ones included."""
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(cli), ids=lambda value: str(value))
def test_every_command_has_help_with_an_example(name: str, command: click.Command) -> None:
    code, output = run(*name.split(), "--help")
    assert code == 0
    if not isinstance(command, click.Group):
        assert "Example:" in output, f"`sla-tracker {name} --help` needs an example"


@pytest.mark.parametrize(("name", "command"), _commands(cli), ids=lambda value: str(value))
def test_every_command_is_in_the_readme(name: str, command: click.Command) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert f"sla-tracker {name}" in readme, f"document `sla-tracker {name}` in README.md"

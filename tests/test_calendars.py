"""Calendar files: bundled calendars, user calendars, and precise validation errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sla_tracker.calendar_files import available_calendars, load_calendar_file, load_named_calendar
from sla_tracker.config import ConfigError, Settings
from tests.conftest import ROOT

GOOD_WEEK = '[windows]\nmon = ["09:00-18:00"]\n'


def calendar_file(tmp_path: Path, body: str, name: str = "custom") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_bundled_calendars_are_listed() -> None:
    assert {"fr-support", "fr-support-alsace-moselle"} <= set(available_calendars(Settings()))


def test_alsace_moselle_closes_good_friday_and_saint_stephen() -> None:
    cal = load_named_calendar("fr-support-alsace-moselle", Settings())
    assert cal.day_schedule(date(2026, 4, 3)).closed_because == "Vendredi saint"
    assert cal.day_schedule(date(2026, 12, 26)).closed_because is not None
    plain = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
    assert plain.day_schedule(date(2026, 4, 3)).windows


@pytest.mark.parametrize("subdivision", ["67", "68", "6AE", "Alsace"])
def test_alsace_departement_numbers_are_read_as_6ae(tmp_path: Path, subdivision: str) -> None:
    path = calendar_file(
        tmp_path,
        f'timezone = "Europe/Paris"\n{GOOD_WEEK}[holidays]\nsubdivision = "{subdivision}"\n',
    )
    assert load_calendar_file(path).day_schedule(date(2026, 4, 3)).closed_because


def test_an_unknown_subdivision_gets_a_hint(tmp_path: Path) -> None:
    path = calendar_file(
        tmp_path, f'timezone = "Europe/Paris"\n{GOOD_WEEK}[holidays]\nsubdivision = "99"\n'
    )
    with pytest.raises(ConfigError, match=r"does not have subdivision 99.*57 for Moselle"):
        load_calendar_file(path)


def test_an_unknown_country_is_named(tmp_path: Path) -> None:
    path = calendar_file(
        tmp_path, f'timezone = "Europe/Paris"\n{GOOD_WEEK}[holidays]\ncountry = "XX"\n'
    )
    with pytest.raises(ConfigError, match="holidays: Country XX not available"):
        load_calendar_file(path)


def test_whit_monday_can_be_a_working_day(tmp_path: Path) -> None:
    path = calendar_file(
        tmp_path, f'timezone = "Europe/Paris"\n{GOOD_WEEK}[holidays]\nwhit_monday_closed = false\n'
    )
    schedule = load_calendar_file(path).day_schedule(date(2026, 5, 25))
    assert schedule.closed_because is None and schedule.windows


def test_bridge_days_and_extra_open_days(tmp_path: Path) -> None:
    path = calendar_file(
        tmp_path,
        'timezone = "Europe/Paris"\n[windows]\nfri = ["09:00-17:00"]\n'
        '[[closed]]\ndate = 2026-05-15\nreason = "Pont"\n'
        '[[open]]\ndate = 2026-05-16\nwindows = ["10:00-12:00"]\n',
    )
    cal = load_calendar_file(path)
    assert cal.day_schedule(date(2026, 5, 15)).closed_because == "Pont"
    assert [str(w) for w in cal.day_schedule(date(2026, 5, 16)).windows] == ["10:00-12:00"]


def test_an_open_date_without_usual_windows_needs_its_own(tmp_path: Path) -> None:
    path = calendar_file(tmp_path, f'timezone = "UTC"\n{GOOD_WEEK}[[open]]\ndate = 2026-05-16\n')
    with pytest.raises(ConfigError, match="open 2026-05-16: a sat has no usual windows"):
        load_calendar_file(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('timezone = "Mars/Olympus"\n' + GOOD_WEEK, 'unknown time zone "Mars/Olympus"'),
        (
            'timezone = "UTC"\n[windows]\nfri = ["09:00-25:00"]\n',
            'windows.fri: "09:00-25:00" is not',
        ),
        (
            'timezone = "UTC"\n[windows]\nmon = ["18:00-09:00"]\n',
            "windows.mon: .* ends at or before",
        ),
        (
            'timezone = "UTC"\n[windows]\nmon = ["09:00-13:00", "12:00-18:00"]\n',
            "windows.mon: windows 09:00-13:00 and 12:00-18:00 overlap",
        ),
        ('timezone = "UTC"\n[windows]\nmonday = ["09:00-18:00"]\n', "unknown weekday 'monday'"),
        (GOOD_WEEK, "timezone: Field required"),
        ('timezone = "UTC"\nwindow = 1\n' + GOOD_WEEK, "window = 1: unknown key"),
    ],
)
def test_invalid_calendars_are_refused_precisely(tmp_path: Path, body: str, message: str) -> None:
    path = calendar_file(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as error:
        load_calendar_file(path)
    assert str(error.value).startswith(str(path))


def test_a_dropped_in_calendar_is_found_by_name(tmp_path: Path) -> None:
    calendar_file(tmp_path, 'timezone = "Europe/Paris"\n' + GOOD_WEEK, name="acme")
    settings = Settings.model_validate({"calendar": {"paths": [str(tmp_path)]}})
    assert load_named_calendar("acme", settings).name == "acme"
    assert "acme" in available_calendars(settings)


def test_an_unknown_calendar_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown calendar 'nope' \\(known: fr-support, "):
        load_named_calendar("nope", Settings())


def test_holiday_tables_are_cached_so_a_later_command_does_not_import_holidays(
    tmp_path: Path,
) -> None:
    """The `holidays` package imports 250 countries (a third of a second): a command that
    finds the tables in the cache answers without it, and the same."""
    import os
    import subprocess
    import sys

    code = (
        "import sys; from sla_tracker.calendar_files import load_named_calendar;"
        "from sla_tracker.config import Settings;"
        "c = load_named_calendar('fr-support', Settings());"
        "print(sorted(map(str, c.holidays_of(2026))), 'holidays' in sys.modules)"
    )
    env = {**os.environ, "SLA_TRACKER_CACHE_DIR": str(tmp_path)}

    def run() -> str:
        command = [sys.executable, "-c", code]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout

    first, second = run(), run()
    assert first.endswith("True\n") and second.endswith("False\n")
    assert first.removesuffix("True\n") == second.removesuffix("False\n")
    assert "2026-07-14" in first
    next(tmp_path.glob("holidays-*.json")).write_text("{not json", encoding="utf-8")
    assert run() == first  # a damaged cache is computed again

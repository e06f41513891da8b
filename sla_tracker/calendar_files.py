"""Calendar files (``calendars/*.toml``) turned into :class:`BusinessCalendar` objects.

A user adds a calendar by dropping ``NAME.toml`` into a folder listed in
``calendar.paths`` (or into the bundled ``calendars/``) and selects it by NAME. Public
holidays come from the ``holidays`` package here, at the edge, and reach the pure core as a
plain function of the year.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

from dateutil.easter import easter
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sla_tracker import holiday_cache
from sla_tracker.bundled import bundled
from sla_tracker.config import ConfigError, Settings, describe_validation_error, read_toml
from sla_tracker.core.calendar import (
    WEEKDAY_KEYS,
    BusinessCalendar,
    CalendarError,
    HolidaySource,
    OpeningWindow,
    check_windows,
)

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

WHIT_MONDAY_DAYS_AFTER_EASTER = 50
# In `holidays`, France's Alsace subdivision is "6AE"; users naturally write the
# départements' numbers (SPEC.md §2).
SUBDIVISION_ALIASES = {"67": "6AE", "68": "6AE"}

WindowList = tuple[Annotated[str, Field(min_length=1)], ...]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HolidayRules(_Strict):
    country: str = "FR"
    subdivision: str | None = None
    language: str | None = None
    whit_monday_closed: bool = True


class ClosedDate(_Strict):
    date: date
    reason: str = "fermeture exceptionnelle"


class OpenDate(_Strict):
    date: date
    windows: WindowList | None = None


class CalendarFile(_Strict):
    description: str = ""
    timezone: str
    windows: dict[str, WindowList]
    holidays: HolidayRules = HolidayRules()
    closed: tuple[ClosedDate, ...] = ()
    open: tuple[OpenDate, ...] = ()

    @field_validator("windows")
    @classmethod
    def _weekday_keys(cls, windows: dict[str, WindowList]) -> dict[str, WindowList]:
        for key in windows:
            if key not in WEEKDAY_KEYS:
                raise ValueError(f"unknown weekday {key!r}; use {', '.join(WEEKDAY_KEYS)}")
        return windows


def calendar_dirs(settings: Settings) -> list[Path]:
    """Folders searched for calendars, first match wins: the user's, then the bundled ones."""
    return [*settings.calendar.paths, bundled("calendars")]


def available_calendars(settings: Settings) -> list[str]:
    return sorted(
        {path.stem for folder in calendar_dirs(settings) for path in folder.glob("*.toml")}
    )


def load_named_calendar(name: str, settings: Settings) -> BusinessCalendar:
    """Find ``NAME.toml`` in the calendar folders and build it.

    Raises:
        ConfigError: unknown name (the message lists the known ones) or an invalid file.
    """
    for folder in calendar_dirs(settings):
        path = folder / f"{name}.toml"
        if path.is_file():
            return load_calendar_file(path)
    known = ", ".join(available_calendars(settings)) or "none"
    raise ConfigError(
        f"unknown calendar {name!r} (known: {known}); add {name}.toml to one of "
        f"{', '.join(str(folder) for folder in calendar_dirs(settings))}"
    )


def load_calendar_file(path: Path) -> BusinessCalendar:
    """Validate one calendar file and build its engine; errors name the file and the key."""
    try:
        spec = CalendarFile.model_validate(read_toml(path))
    except ValidationError as error:
        raise ConfigError(describe_validation_error(str(path), error)) from None
    try:
        return _build(path.stem, spec)
    except CalendarError as error:
        raise ConfigError(f"{path}: {error}") from None


def _build(name: str, spec: CalendarFile) -> BusinessCalendar:
    weekly = {
        WEEKDAY_KEYS.index(key): _windows(f"windows.{key}", texts)
        for key, texts in spec.windows.items()
    }
    open_dates = {}
    for entry in spec.open:
        if entry.windows is not None:
            open_dates[entry.date] = _windows(f"open {entry.date}", entry.windows)
        elif weekly.get(entry.date.weekday()):
            open_dates[entry.date] = weekly[entry.date.weekday()]
        else:
            raise CalendarError(
                f"open {entry.date}: a {WEEKDAY_KEYS[entry.date.weekday()]} has no usual "
                'windows; give this date its own windows = ["HH:MM-HH:MM"]'
            )
    return BusinessCalendar(
        name,
        spec.timezone,
        weekly,
        holidays=holiday_source(spec.holidays),
        closed_dates={entry.date: entry.reason for entry in spec.closed},
        open_dates=open_dates,
    )


def _windows(key: str, texts: tuple[str, ...]) -> tuple[OpeningWindow, ...]:
    try:
        return check_windows(tuple(OpeningWindow.parse(text) for text in texts))
    except CalendarError as error:
        raise CalendarError(f"{key}: {error}") from None


def holiday_source(rules: HolidayRules) -> HolidaySource:
    """A year → named holidays function over the ``holidays`` package, checked up front.

    ``holidays`` imports its 250 countries on first use (about a third of a second), so the
    years most clocks need are kept in a cache file per package version and rules: a command
    started later reads them back in a millisecond. Other years are computed when asked.
    """
    subdivision = SUBDIVISION_ALIASES.get(rules.subdivision or "", rules.subdivision)
    cached = holiday_cache.read(_cache_key(rules, subdivision))
    if cached is None:
        _check_rules(rules, subdivision)
        cached = {year: _named(rules, subdivision, year) for year in holiday_cache.YEARS}
        holiday_cache.write(_cache_key(rules, subdivision), cached)
    table = cached

    def holidays_of(year: int) -> Mapping[date, str]:
        return table[year] if year in table else _named(rules, subdivision, year)

    return holidays_of


def _cache_key(rules: HolidayRules, subdivision: str | None) -> list[object]:
    return [rules.country, subdivision, rules.language, rules.whit_monday_closed]


def _check_rules(rules: HolidayRules, subdivision: str | None) -> None:
    import holidays

    try:
        holidays.country_holidays(
            rules.country, subdiv=subdivision, years=2000, language=rules.language
        )
    except NotImplementedError as error:
        hint = ""
        if rules.country == "FR":
            hint = " (France: 57 for Moselle, 6AE for Alsace — 67 and 68 are read as 6AE)"
        raise CalendarError(f"holidays: {error}{hint}") from None


def _named(rules: HolidayRules, subdivision: str | None, year: int) -> dict[date, str]:
    import holidays

    named = dict(
        holidays.country_holidays(
            rules.country, subdiv=subdivision, years=year, language=rules.language
        )
    )
    if not rules.whit_monday_closed:
        named.pop(easter(year) + timedelta(days=WHIT_MONDAY_DAYS_AFTER_EASTER), None)
    return named

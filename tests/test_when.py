"""Instants and durations as people read them (present/when.py), in French and English."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla_tracker.present.when import duration, local_instant, long_date, relative

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def plain(text: str) -> str:
    """CLDR keeps a number and its unit together with no-break spaces; compare with spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize(
    ("lang", "expected", "with_year"),
    [
        ("fr", "lun. 30 nov. 10:30", "lun. 30 nov. 2026 10:30"),
        ("en", "Mon 30 Nov 10:30", "Mon, 30 Nov 2026 10:30"),
    ],
)
def test_local_instant_is_in_the_calendar_zone_with_its_weekday(
    lang: str, expected: str, with_year: str
) -> None:
    assert local_instant(NOW, PARIS, lang) == expected
    assert local_instant(NOW, PARIS, lang, year=True) == with_year


def test_local_instant_follows_daylight_saving_time() -> None:
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    assert local_instant(summer, PARIS, "fr") == "mer. 1 juil. 10:00"


@pytest.mark.parametrize(
    ("seconds", "fr", "en"),
    [
        (12_000, "3 h 20 min", "3 hrs 20 mins"),
        (45, "45 s", "45 secs"),
        (2 * 86_400 + 7 * 3_600 + 59, "2 j 7 h", "2 days 7 hrs"),
        (2 * 86_400 + 5 * 60, "2 j", "2 days"),
        (-3_600, "1 h", "1 hr"),
    ],
)
def test_duration_says_the_two_largest_units(seconds: int, fr: str, en: str) -> None:
    assert plain(duration(seconds, "fr")) == fr
    assert plain(duration(seconds, "en")) == en


def test_business_durations_never_roll_into_days() -> None:
    assert plain(duration(55 * 3_600 + 33 * 60, "fr", largest="hour")) == "55 h 33 min"


def test_relative_says_the_direction_in_each_language() -> None:
    later = NOW + timedelta(hours=3, minutes=20)
    earlier = NOW - timedelta(days=2)
    assert plain(relative(later, NOW, "fr")) == "dans 3 h 20 min"
    assert plain(relative(earlier, NOW, "fr")) == "il y a 2 j"
    assert plain(relative(later, NOW, "en")) == "in 3 hrs 20 mins"
    assert plain(relative(earlier, NOW, "en")) == "2 days ago"


def test_a_number_never_wraps_away_from_its_unit() -> None:
    assert duration(12_000, "fr") == "3\u202fh 20\xa0min"


def test_long_date() -> None:
    assert long_date(date(2026, 11, 30), "fr") == "30 novembre 2026"
    assert long_date(date(2026, 11, 30), "en") == "30 November 2026"

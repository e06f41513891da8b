"""BusinessCalendar: boundaries, DST, holidays, lunch breaks, overrides, validation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sla_tracker.core.calendar import (
    BusinessCalendar,
    CalendarError,
    NaiveDatetimeError,
    OpeningWindow,
)
from tests.conftest import windows

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def assert_deadline(cal: BusinessCalendar, created: str, hours: float, expected: str) -> None:
    """Both instants in Paris wall time, as a support manager reads them."""
    deadline = cal.add_business_seconds(paris(created), int(hours * HOUR))
    assert deadline == paris(expected), f"{created} + {hours} h → {deadline.astimezone(PARIS)}"
    assert deadline.tzinfo is UTC


def test_a_week_without_holiday_has_44_business_hours(fr_calendar: BusinessCalendar) -> None:
    assert fr_calendar.business_seconds(paris("2026-11-30 00:00"), paris("2026-12-07 00:00")) == (
        44 * HOUR
    )


def test_year_2026_has_2219_business_hours(fr_calendar: BusinessCalendar) -> None:
    assert fr_calendar.business_seconds(paris("2026-01-01 00:00"), paris("2027-01-01 00:00")) == (
        2219 * HOUR
    )


@pytest.mark.parametrize(
    ("start", "end", "seconds"),
    [
        ("2026-11-30 09:00", "2026-11-30 09:01", 60),  # opening instant counts
        ("2026-11-30 18:00", "2026-11-30 18:01", 0),  # closing instant does not
        ("2026-11-30 17:59:59", "2026-12-01 09:00:01", 2),
        ("2026-11-27 16:59", "2026-11-30 09:01", 120),  # Friday closes at 17:00
        ("2026-11-28 10:00", "2026-11-29 23:00", 0),  # weekend
        ("2026-11-30 12:00", "2026-11-30 12:00", 0),  # empty interval
        ("2026-07-14 10:00", "2026-07-14 12:00", 0),  # Fête nationale
    ],
)
def test_business_seconds_at_boundaries(
    fr_calendar: BusinessCalendar, start: str, end: str, seconds: int
) -> None:
    assert fr_calendar.business_seconds(paris(start), paris(end)) == seconds


@pytest.mark.parametrize(
    ("created", "hours", "expected"),
    [
        ("2026-11-30 17:00", 1, "2026-11-30 18:00"),  # spent exactly at closing: ends then
        ("2026-11-30 17:00", 1.5, "2026-12-01 09:30"),
        ("2026-11-28 03:00", 2, "2026-11-30 11:00"),  # created on a Saturday night
        ("2026-05-13 16:00", 4, "2026-05-15 11:00"),  # Ascension Thursday skipped
        ("2026-05-22 16:00", 2, "2026-05-26 10:00"),  # Whit Monday skipped
        ("2026-10-23 16:30", 2, "2026-10-26 10:30"),  # autumn DST weekend (25 Oct)
        ("2026-12-24 17:30", 1, "2026-12-28 09:30"),  # Christmas Friday
    ],
)
def test_deadlines(
    fr_calendar: BusinessCalendar, created: str, hours: float, expected: str
) -> None:
    assert_deadline(fr_calendar, created, hours, expected)


def test_zero_budget_on_a_closed_instant_returns_it(fr_calendar: BusinessCalendar) -> None:
    sunday = paris("2026-11-29 03:00")
    assert fr_calendar.add_business_seconds(sunday, 0) == sunday


def test_inputs_in_any_offset_give_utc_results(fr_calendar: BusinessCalendar) -> None:
    kathmandu = timezone(timedelta(hours=5, minutes=45))
    created = datetime(2026, 11, 27, 21, 15, tzinfo=kathmandu)  # 16:30 Paris
    assert fr_calendar.add_business_seconds(created, 2 * HOUR) == datetime(
        2026, 11, 30, 9, 30, tzinfo=UTC
    )


def test_sub_second_parts_are_truncated(fr_calendar: BusinessCalendar) -> None:
    start = paris("2026-11-30 10:00:00.900000")
    end = paris("2026-11-30 10:00:01.100000")
    assert fr_calendar.business_seconds(start, end) == 1


def test_naive_instants_are_refused(fr_calendar: BusinessCalendar) -> None:
    with pytest.raises(NaiveDatetimeError, match="has no UTC offset"):
        fr_calendar.business_seconds(datetime(2026, 1, 1), paris("2026-01-02 00:00"))
    with pytest.raises(NaiveDatetimeError):
        fr_calendar.add_business_seconds(datetime(2026, 1, 1), 60)


def test_end_before_start_is_refused(fr_calendar: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="is before start"):
        fr_calendar.business_seconds(paris("2026-01-02 00:00"), paris("2026-01-01 00:00"))


def test_negative_budget_is_refused(fr_calendar: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="cannot be negative"):
        fr_calendar.add_business_seconds(paris("2026-01-02 00:00"), -1)


def test_instants_outside_the_supported_years_are_refused(fr_calendar: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="between 1900 and 2999"):
        fr_calendar.business_seconds(paris("1850-01-01 00:00"), paris("2026-01-01 00:00"))


def test_horizon_grows_both_ways_and_agrees_with_itself(fr_calendar: BusinessCalendar) -> None:
    year_2026 = fr_calendar.business_seconds(paris("2026-01-01 00:00"), paris("2027-01-01 00:00"))
    fr_calendar.business_seconds(paris("1990-01-01 00:00"), paris("1990-01-02 12:00"))
    fr_calendar.add_business_seconds(paris("2090-06-01 00:00"), 5000 * HOUR)
    assert fr_calendar.business_seconds(paris("2026-01-01 00:00"), paris("2027-01-01 00:00")) == (
        year_2026
    )


def test_a_long_budget_extends_the_horizon(fr_calendar: BusinessCalendar) -> None:
    ten_years = fr_calendar.add_business_seconds(paris("2026-01-01 00:00"), 22_000 * HOUR)
    assert fr_calendar.business_seconds(paris("2026-01-01 00:00"), ten_years) == 22_000 * HOUR


def test_lunch_breaks_are_not_counted(plain_calendar: BusinessCalendar) -> None:
    start = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)  # Monday
    assert plain_calendar.business_seconds(start, start.replace(hour=15)) == 2 * HOUR
    assert plain_calendar.add_business_seconds(start, HOUR) == start.replace(hour=12)
    assert plain_calendar.add_business_seconds(start, HOUR + 1) == start.replace(hour=14, second=1)


def test_injected_holidays_close_the_day(plain_calendar: BusinessCalendar) -> None:
    schedule = plain_calendar.day_schedule(date(2027, 1, 1))
    assert schedule.windows == () and schedule.closed_because == "New Year"


def test_closed_and_open_dates_override_the_week() -> None:
    week = {day: windows("09:00-17:00") for day in range(5)}
    cal = BusinessCalendar(
        "overrides",
        "Europe/Paris",
        week,
        holidays=lambda year: {date(year, 5, 1): "Fête du Travail"},
        closed_dates={date(2026, 5, 15): "Pont de l'Ascension"},
        open_dates={date(2026, 5, 1): windows("10:00-12:00"), date(2026, 5, 16): week[0]},
    )
    assert cal.day_schedule(date(2026, 5, 15)).closed_because == "Pont de l'Ascension"
    assert cal.business_seconds(paris("2026-05-01 00:00"), paris("2026-05-02 00:00")) == 2 * HOUR
    assert cal.business_seconds(paris("2026-05-16 00:00"), paris("2026-05-17 00:00")) == 8 * HOUR


def test_a_window_to_midnight_joins_the_next_day() -> None:
    always = {day: windows("00:00-24:00") for day in range(7)}
    cal = BusinessCalendar("24-7", "Europe/Paris", always, holidays=lambda year: {})
    # 29 March 2026 has 23 hours in Paris, 25 October 25 hours.
    assert cal.business_seconds(paris("2026-03-29 00:00"), paris("2026-03-30 00:00")) == 23 * HOUR
    assert cal.business_seconds(paris("2026-10-25 00:00"), paris("2026-10-26 00:00")) == 25 * HOUR
    assert cal.add_business_seconds(paris("2026-03-28 23:00"), 2 * HOUR) == paris(
        "2026-03-29 01:00"
    )


def test_a_window_inside_the_dst_gap_counts_its_real_length() -> None:
    nights = {6: windows("01:30-03:30")}
    cal = BusinessCalendar("nights", "Europe/Paris", nights, holidays=lambda year: {})
    # On 29 March 2026 Paris skips 02:00–03:00: 01:30–03:30 wall time is one real hour.
    assert cal.business_seconds(paris("2026-03-29 00:00"), paris("2026-03-30 00:00")) == HOUR


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("09:00", "not a valid time range"),
        ("9h-18h", "not a valid time range"),
        ("09:00-25:00", "not a valid time range"),
        ("09:60-10:00", "not a valid time range"),
        ("18:00-09:00", "ends at or before it starts"),
        ("09:00-09:00", "ends at or before it starts"),
    ],
)
def test_bad_windows_are_named(text: str, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        OpeningWindow.parse(text)


def test_overlapping_windows_are_refused() -> None:
    with pytest.raises(CalendarError, match="windows 09:00-13:00 and 12:00-18:00 overlap"):
        BusinessCalendar(
            "bad",
            "UTC",
            {0: windows("12:00-18:00", "09:00-13:00")},
            holidays=lambda year: {},
        )


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(CalendarError, match='unknown time zone "Europe/Pariss"'):
        BusinessCalendar(
            "bad", "Europe/Pariss", {0: windows("09:00-18:00")}, holidays=lambda year: {}
        )


def test_a_calendar_that_never_opens_is_refused() -> None:
    with pytest.raises(CalendarError, match="no opening hours"):
        BusinessCalendar("closed", "UTC", {}, holidays=lambda year: {})


def test_a_budget_beyond_the_last_open_day_is_refused() -> None:
    cal = BusinessCalendar(
        "once",
        "UTC",
        {},
        holidays=lambda year: {},
        open_dates={date(2026, 1, 5): windows("09:00-10:00")},
    )
    with pytest.raises(CalendarError, match="no business time left"):
        cal.add_business_seconds(datetime(2026, 1, 5, 9, tzinfo=UTC), 2 * HOUR)


def test_next_open_instant(fr_calendar: BusinessCalendar) -> None:
    paris = ZoneInfo("Europe/Paris")

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=paris)

    assert fr_calendar.next_open_instant(at("2026-12-04 16:59:59")) == at("2026-12-04 16:59:59")
    assert fr_calendar.next_open_instant(at("2026-12-04 17:00")) == at("2026-12-07 09:00")
    assert fr_calendar.next_open_instant(at("2026-12-05 12:00")) == at("2026-12-07 09:00")
    assert fr_calendar.next_open_instant(at("2026-12-24 18:00")) == at("2026-12-28 09:00")

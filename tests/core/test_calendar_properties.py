"""Hypothesis: the engine against a minute-walking reference, and its algebraic properties.

Instants range over 2020–2035 and lean on the hard cases: nights, weekends, public
holidays, DST weekends and the exact opening and closing instants (± 1 s).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_tracker.calendar_files import load_calendar_file
from tests.conftest import ROOT
from tests.reference_calendar import reference_add_business_seconds, reference_business_seconds

PARIS = ZoneInfo("Europe/Paris")
CAL = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
YEARS = range(2020, 2036)
MAX_BUSINESS = 100 * 3600  # beyond the 72 h GTR


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _hard_days() -> list[date]:
    days: set[date] = set()
    for year in YEARS:
        for dst_sunday in (_last_sunday(year, 3), _last_sunday(year, 10)):
            days.update(dst_sunday + timedelta(days=offset) for offset in range(-2, 2))
        for holiday in holidays.country_holidays("FR", years=year):
            days.update(holiday + timedelta(days=offset) for offset in (-1, 0, 1))
    return sorted(days)


HARD_DAYS = _hard_days()
HARD_TIMES = [
    time(0),
    time(8, 59),
    time(9),
    time(12, 30),
    time(17),
    time(17, 59),
    time(18),
    time(23),
]
OFFSETS = [UTC, PARIS, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45))]

uniform_instants = st.integers(
    int(datetime(2020, 1, 1, tzinfo=UTC).timestamp()),
    int(datetime(2035, 12, 20, tzinfo=UTC).timestamp()),
).map(lambda ts: datetime.fromtimestamp(ts, UTC))
hard_instants = st.builds(
    lambda day, wall, nudge: datetime.combine(day, wall, tzinfo=PARIS) + timedelta(seconds=nudge),
    st.sampled_from(HARD_DAYS),
    st.sampled_from(HARD_TIMES),
    st.sampled_from([-1, 0, 0, 0, 1]),
)
instants = st.tuples(st.one_of(uniform_instants, hard_instants), st.sampled_from(OFFSETS)).map(
    lambda pair: pair[0].astimezone(pair[1])
)
durations = st.one_of(
    st.integers(0, 3 * 86400), st.integers(0, 21 * 86400), st.sampled_from([0, 1, 59, 60, 3600])
)
budgets = st.one_of(st.integers(0, MAX_BUSINESS), st.sampled_from([0, 1, 7200, 14400, 259200]))


@settings(max_examples=150, deadline=None)
@given(instants, durations)
def test_business_seconds_matches_the_reference(start: datetime, duration: int) -> None:
    end = start + timedelta(seconds=duration)
    assert CAL.business_seconds(start, end) == reference_business_seconds(start, end)


@settings(max_examples=150, deadline=None)
@given(instants, budgets)
def test_add_business_seconds_matches_the_reference(start: datetime, budget: int) -> None:
    assert CAL.add_business_seconds(start, budget) == reference_add_business_seconds(start, budget)


@settings(max_examples=300)
@given(instants, durations, durations)
def test_additivity(start: datetime, first: int, second: int) -> None:
    middle = start + timedelta(seconds=first)
    end = middle + timedelta(seconds=second)
    assert CAL.business_seconds(start, end) == (
        CAL.business_seconds(start, middle) + CAL.business_seconds(middle, end)
    )


@settings(max_examples=300)
@given(instants, budgets)
def test_round_trip(start: datetime, budget: int) -> None:
    assert CAL.business_seconds(start, CAL.add_business_seconds(start, budget)) == budget


@settings(max_examples=300)
@given(instants, durations)
def test_spending_what_lies_between_returns_the_end_when_it_is_open(
    start: datetime, duration: int
) -> None:
    end = (start + timedelta(seconds=duration)).replace(microsecond=0)
    before, after = end - timedelta(seconds=1), end + timedelta(seconds=1)
    if CAL.business_seconds(before, after) == 2:  # end lies strictly inside a window
        assert CAL.add_business_seconds(start, CAL.business_seconds(start, end)) == end


@settings(max_examples=300)
@given(instants, budgets, budgets)
def test_deadlines_never_move_earlier_as_the_budget_grows(
    start: datetime, budget: int, extra: int
) -> None:
    assert CAL.add_business_seconds(start, budget) <= CAL.add_business_seconds(
        start, budget + extra
    )


@settings(max_examples=300)
@given(instants, durations, durations)
def test_business_seconds_grow_with_the_interval(start: datetime, first: int, extra: int) -> None:
    end = start + timedelta(seconds=first)
    assert CAL.business_seconds(start, end) <= CAL.business_seconds(
        start, end + timedelta(seconds=extra)
    )
    assert CAL.business_seconds(start, end) <= first + 1


@given(instants)
def test_zero_budget_returns_the_start(start: datetime) -> None:
    assert CAL.add_business_seconds(start, 0) == start.replace(microsecond=0)

"""SPEC.md §5 worked examples, one row each (calendar fr-support)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sla_tracker.core.calendar import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.mark.parametrize(
    ("created", "hours", "deadline"),
    [
        pytest.param("2026-11-27 16:30", 2, "2026-11-30 10:30", id="ex1-friday-1630-blocking"),
        pytest.param("2026-05-13 16:00", 4, "2026-05-15 11:00", id="ex2-ascension-major"),
        pytest.param("2026-03-27 16:00", 2, "2026-03-30 10:00", id="ex3-dst-spring"),
        pytest.param("2026-12-02 10:00", 72, "2026-12-14 12:00", id="ex4-gtr-72h"),
        pytest.param("2026-11-24 16:00", 72, "2026-12-04 17:00", id="ex5-friday-closing"),
    ],
)
def test_deadline(fr_calendar: BusinessCalendar, created: str, hours: int, deadline: str) -> None:
    assert fr_calendar.add_business_seconds(paris(created), hours * 3600) == paris(deadline)


def test_ex3_crosses_the_spring_offset_change(fr_calendar: BusinessCalendar) -> None:
    deadline = fr_calendar.add_business_seconds(paris("2026-03-27 16:00"), 7200)
    assert paris("2026-03-27 16:00").utcoffset() != deadline.astimezone(PARIS).utcoffset()
    assert deadline.isoformat() == "2026-03-30T08:00:00+00:00"


def test_ex4_overrun_in_business_seconds(fr_calendar: BusinessCalendar) -> None:
    breach_start = fr_calendar.add_business_seconds(paris("2026-12-02 10:00"), 72 * 3600)
    restored = paris("2026-12-16 15:00")
    assert fr_calendar.business_seconds(breach_start, restored) == 75_600  # 21 h
    assert (restored - breach_start).total_seconds() == 183_600  # 51 h wall-clock


def test_ex5_breach_starts_at_the_73rd_business_hour(fr_calendar: BusinessCalendar) -> None:
    deadline = fr_calendar.add_business_seconds(paris("2026-11-24 16:00"), 72 * 3600)
    breach_start = fr_calendar.next_open_instant(deadline)
    assert (deadline, breach_start) == (paris("2026-12-04 17:00"), paris("2026-12-07 09:00"))
    restored = paris("2026-12-07 10:00")
    assert fr_calendar.business_seconds(breach_start, restored) == 3_600
    assert (restored - breach_start).total_seconds() == 3_600  # not the weekend
    # Amounts on both bases: tests/core/test_indemnity.py::test_spec_example_5_friday_closing_deadline

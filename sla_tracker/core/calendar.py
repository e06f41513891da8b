"""Business time on a support calendar (SPEC.md §2; clauses C1 and C3).

Every contractual delay is counted in business seconds: the seconds that fall inside an
opening window of the support calendar. Windows are written in local wall time (so a DST
Sunday is an ordinary day), while every instant the engine accepts or returns is UTC.

The engine turns the calendar into a flat, sorted table of opening windows as UTC epoch
seconds with a running total of business seconds, built a year at a time on demand. A query
is then two binary searches, whatever the distance between its instants.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
FIRST_YEAR, LAST_YEAR = 1900, 2999  # the span the engine agrees to tabulate
_MIN_EXTENSION_YEARS = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

HolidaySource = Callable[[int], Mapping[date, str]]
"""Gives the named public holidays of one year; injected so that core does no I/O."""


class CalendarError(ValueError):
    """A calendar definition or a query that the engine cannot honour."""


class NaiveDatetimeError(CalendarError):
    """An instant without a UTC offset: it could mean any of 24+ instants."""


@dataclass(frozen=True, slots=True, order=True)
class OpeningWindow:
    """One opening window of a day, in local minutes since midnight, half-open [start, end)."""

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise CalendarError(f"window {self} starts outside the day (use 00:00 to 23:59)")
        if not self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise CalendarError(f"window {self} must end after it starts and by 24:00")

    @classmethod
    def parse(cls, text: str) -> OpeningWindow:
        """Read ``"HH:MM-HH:MM"`` (``24:00`` allowed as an end)."""
        try:
            start_text, end_text = text.split("-")
            start, end = _parse_minute(start_text), _parse_minute(end_text)
        except ValueError:
            raise CalendarError(f'"{text}" is not a valid time range (use HH:MM-HH:MM)') from None
        if end <= start:
            raise CalendarError(f'"{text}" ends at or before it starts (use HH:MM-HH:MM)')
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_format_minute(self.start_minute)}-{_format_minute(self.end_minute)}"

    @property
    def seconds(self) -> int:
        return (self.end_minute - self.start_minute) * 60


def _parse_minute(text: str) -> int:
    hours_text, minutes_text = text.strip().split(":")
    if len(minutes_text) != 2 or not (hours_text.isdigit() and minutes_text.isdigit()):
        raise ValueError(text)
    hours, minutes = int(hours_text), int(minutes_text)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(text)
    return hours * 60 + minutes


def _format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """What one local date looks like: its windows, or why it is closed."""

    day: date
    windows: tuple[OpeningWindow, ...]
    closed_because: str | None  # holiday name or closure reason; None on an ordinary day


def check_windows(windows: tuple[OpeningWindow, ...]) -> tuple[OpeningWindow, ...]:
    """Sort a day's windows and refuse overlaps (touching windows are allowed)."""
    ordered = tuple(sorted(windows))
    for before, after in pairwise(ordered):
        if after.start_minute < before.end_minute:
            raise CalendarError(f"windows {before} and {after} overlap")
    return ordered


class BusinessCalendar:
    """A support calendar that counts and spends business seconds between UTC instants.

    Args:
        name: how users select the calendar (its file name without ``.toml``).
        timezone: IANA zone of the windows, e.g. ``Europe/Paris``.
        weekly: opening windows per weekday (0 = Monday … 6 = Sunday); a missing day is closed.
        holidays: named public holidays of a year (closed unless listed in ``open_dates``).
        closed_dates: extra closures such as bridge days, with their reason.
        open_dates: dates open despite a holiday or closure, with that day's windows.

    Raises:
        CalendarError: unknown time zone, overlapping windows, or no opening hours at all.
    """

    def __init__(
        self,
        name: str,
        timezone: str,
        weekly: Mapping[int, tuple[OpeningWindow, ...]],
        *,
        holidays: HolidaySource,
        closed_dates: Mapping[date, str] | None = None,
        open_dates: Mapping[date, tuple[OpeningWindow, ...]] | None = None,
    ) -> None:
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(
                f'unknown time zone "{timezone}" (use an IANA name such as Europe/Paris)'
            ) from None
        self.name = name
        self.timezone = timezone
        self.weekly = {day: check_windows(tuple(weekly.get(day, ()))) for day in range(7)}
        self.closed_dates = dict(closed_dates or {})
        self.open_dates = {day: check_windows(w) for day, w in (open_dates or {}).items()}
        if not any(self.weekly.values()) and not any(self.open_dates.values()):
            raise CalendarError(f"calendar {name} has no opening hours on any day")
        self._holidays = holidays
        self._holiday_cache: dict[int, Mapping[date, str]] = {}
        self._year_windows: dict[int, list[tuple[int, int]]] = {}
        self._lock = threading.Lock()
        # The table, replaced whole on growth so a concurrent reader never mixes two:
        # window i spans [starts[i], ends[i]) in UTC epoch seconds; the horizon holds
        # cum_after[i] business seconds up to ends[i], and shift[i] + t of them up to any t
        # inside window i; lo and hi bound the instants it answers for, years
        # [first_year, end_year).
        self._table: _Table = _Table([], [], [], [], 0, -1, 0, 0)

    def __repr__(self) -> str:
        return f"BusinessCalendar({self.name!r}, {self.timezone!r})"

    # -- the two operations -------------------------------------------------------------

    def business_seconds(self, start: datetime, end: datetime) -> int:
        """Business seconds in the half-open interval ``[start, end)``.

        Instants are truncated to the whole second. Opening and closing instants count as
        in any half-open interval: [09:00, 09:01) holds 60 seconds, [18:00, 18:01) none.

        Raises:
            NaiveDatetimeError: an instant has no UTC offset.
            CalendarError: ``end`` is before ``start``, or outside 1900–2999.
        """
        if start.tzinfo is UTC is end.tzinfo and not (start.microsecond or end.microsecond):
            start_ts, end_ts = start.timestamp(), end.timestamp()  # _epoch's fast path, inlined
        else:
            start_ts, end_ts = _epoch(start), _epoch(end)
        if end_ts < start_ts:
            raise CalendarError(f"end {end.isoformat()} is before start {start.isoformat()}")
        starts, ends, shift, _, lo, hi, _, _ = self._table
        if start_ts < lo or end_ts > hi:
            starts, ends, shift, _, lo, hi, _, _ = self._cover(start_ts, end_ts)
        # Business seconds used since the horizon start, at each end of the interval:
        # shift[i] + min(ts, ends[i]) for the last window i that starts at or before ts.
        i = bisect_right(starts, end_ts) - 1
        if i < 0:
            return 0
        window_end = ends[i]
        used_at_end = shift[i] + (end_ts if end_ts < window_end else window_end)
        i = bisect_right(starts, start_ts) - 1
        if i < 0:
            return int(used_at_end)
        window_end = ends[i]
        return int(used_at_end - shift[i] - (start_ts if start_ts < window_end else window_end))

    def add_business_seconds(self, start: datetime, seconds: int) -> datetime:
        """The UTC instant at which ``seconds`` business seconds from ``start`` are spent.

        A budget that runs out exactly at a closing time ends at that closing time, not at
        the next opening. A zero budget returns ``start`` (truncated to the second, in UTC)
        even on a closed instant: a clock that has not started has used nothing.

        Raises:
            NaiveDatetimeError: ``start`` has no UTC offset.
            CalendarError: ``seconds`` is negative, or the budget outlasts year 2999.
        """
        if seconds < 0:
            raise CalendarError(f"a business-time budget cannot be negative ({seconds} s)")
        start_ts = _epoch(start)
        if seconds == 0:
            return datetime.fromtimestamp(start_ts, UTC)
        starts, ends, shift, cum_after, lo, hi, _, _ = self._table
        if not lo <= start_ts <= hi:
            starts, ends, shift, cum_after, lo, hi, _, _ = self._cover(start_ts, start_ts)
        while True:
            j = bisect_right(starts, start_ts) - 1
            if j < 0:
                target = float(seconds)
            else:
                window_end = ends[j]
                target = seconds + shift[j] + (start_ts if start_ts < window_end else window_end)
            if cum_after and target <= cum_after[-1]:
                # The first window whose running total reaches the target holds the deadline.
                return datetime.fromtimestamp(target - shift[bisect_left(cum_after, target)], UTC)
            starts, ends, shift, cum_after, lo, hi, _, _ = self._extend_forward(start)

    def next_open_instant(self, instant: datetime) -> datetime:
        """The first instant at or after ``instant`` that is open: ``instant`` itself inside a
        window, else the next opening (a closing instant is closed). Whole seconds, in UTC.

        Strict breach (SPEC §4) starts here: the first business second past a used-up budget.
        """
        return self.add_business_seconds(instant, 1) - timedelta(seconds=1)

    def open_windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """The opening windows inside ``[start, end)``, clipped, as UTC instants.

        For explanations, not for arithmetic: a long span yields one pair per window.
        """
        start_ts, end_ts = _epoch(start), _epoch(end)
        if end_ts <= start_ts:
            return []
        starts, ends, _, _, lo, hi, _, _ = self._table
        if start_ts < lo or end_ts > hi:
            starts, ends, _, _, lo, hi, _, _ = self._cover(start_ts, end_ts)
        found = []
        index = max(0, bisect_right(starts, start_ts) - 1)
        while index < len(starts) and starts[index] < end_ts:
            window_start, window_end = max(starts[index], start_ts), min(ends[index], end_ts)
            if window_start < window_end:
                found.append(
                    (
                        datetime.fromtimestamp(window_start, UTC),
                        datetime.fromtimestamp(window_end, UTC),
                    )
                )
            index += 1
        return found

    def closure_reason(self, start: datetime, end: datetime) -> str:
        """Why ``[start, end)``, a span between two windows, is closed, in words."""
        day, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        reasons = []
        while day <= last:
            reason = self.day_schedule(day).closed_because
            if reason and reason not in reasons:
                reasons.append(reason)
            day += timedelta(days=1)
        return "closed: " + ", ".join(reasons) if reasons else "closed: outside opening hours"

    # -- what a day looks like ----------------------------------------------------------

    def day_schedule(self, day: date) -> DaySchedule:
        """The windows of a local date and, when closed by a rule, the reason."""
        if day in self.open_dates:
            return DaySchedule(day, self.open_dates[day], None)
        reason = self.closed_dates.get(day) or self.holidays_of(day.year).get(day)
        if reason is not None:
            return DaySchedule(day, (), reason)
        return DaySchedule(day, self.weekly[day.weekday()], None)

    def holidays_of(self, year: int) -> Mapping[date, str]:
        """Named public holidays of a year, as the injected source gives them."""
        if year not in self._holiday_cache:
            self._holiday_cache[year] = self._holidays(year)
        return self._holiday_cache[year]

    # -- the table ----------------------------------------------------------------------

    def _cover(self, lo_ts: float, hi_ts: float) -> _Table:
        first_year, last_year = _utc_year(lo_ts), _utc_year(hi_ts)
        if first_year < FIRST_YEAR or last_year > LAST_YEAR:
            raise CalendarError(f"instants must lie between {FIRST_YEAR} and {LAST_YEAR}")
        # Local years can differ from UTC years around New Year: keep a year of margin.
        first, end = max(first_year - 1, FIRST_YEAR), min(last_year + 2, LAST_YEAR + 1)
        table = self._table
        if table.hi >= table.lo:  # grow the existing table rather than replace it
            first, end = min(first, table.first_year), max(end, table.end_year)
        return self._rebuild(first, end)

    def _extend_forward(self, start: datetime) -> _Table:
        table = self._table
        if table.end_year > LAST_YEAR:
            raise CalendarError(
                f"calendar {self.name} has no business time left after {start.isoformat()}"
            )
        span = max(table.end_year - table.first_year, _MIN_EXTENSION_YEARS)
        return self._rebuild(table.first_year, min(table.end_year + span, LAST_YEAR + 1))

    def _rebuild(self, first_year: int, end_year: int) -> _Table:
        with self._lock:
            # Floats, not ints: every value is a whole number of seconds well below 2**53,
            # so they are exact, and float comparisons are what makes a query cheap.
            starts: list[float] = []
            ends: list[float] = []
            shift: list[float] = []
            cum_after: list[float] = []
            total = 0
            for year in range(first_year, end_year):
                for window_start, window_end in self._windows_of_year(year):
                    starts.append(float(window_start))
                    ends.append(float(window_end))
                    shift.append(float(total - window_start))
                    total += window_end - window_start
                    cum_after.append(float(total))
            table = _Table(
                starts,
                ends,
                shift,
                cum_after,
                _local_epoch(date(first_year, 1, 1), 0, self.zone),
                _local_epoch(date(end_year, 1, 1), 0, self.zone),
                first_year,
                end_year,
            )
            self._table = table
            return table

    def _windows_of_year(self, year: int) -> list[tuple[int, int]]:
        if year not in self._year_windows:
            windows: list[tuple[int, int]] = []
            day = date(year, 1, 1)
            while day.year == year:
                for window in self.day_schedule(day).windows:
                    start_ts = _local_epoch(day, window.start_minute, self.zone)
                    end_ts = _local_epoch(day, window.end_minute, self.zone)
                    if end_ts > start_ts:  # a window swallowed by a DST gap counts nothing
                        windows.append((start_ts, end_ts))
                day += timedelta(days=1)
            self._year_windows[year] = windows
        return self._year_windows[year]


class _Table(NamedTuple):
    starts: list[float]
    ends: list[float]
    shift: list[float]
    cum_after: list[float]
    lo: int
    hi: int
    first_year: int
    end_year: int


def _epoch(instant: datetime) -> float:
    """Whole UTC epoch seconds of an aware instant (sub-second parts truncated)."""
    if instant.tzinfo is UTC and not instant.microsecond:
        # The common case, kept lean: whole-second instants are exact as floats, and float
        # sums and differences of them stay exact (all far below 2**53).
        return instant.timestamp()
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{instant.isoformat()} has no UTC offset; give one (Z or +01:00) so the "
            "instant is unambiguous"
        )
    return instant.timestamp() // 1


def _utc_year(ts: float) -> int:
    return (_EPOCH + timedelta(seconds=ts)).year


def _local_epoch(day: date, minute: int, zone: ZoneInfo) -> int:
    # Build the wall-clock instant in the zone, then read its UTC epoch: durations are only
    # ever measured between UTC instants, so a 23- or 25-hour DST day needs no special case.
    if minute == MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), 0
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return int(local.timestamp())

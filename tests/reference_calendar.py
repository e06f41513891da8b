"""A brute-force reference for the fr-support calendar, independent of the engine.

It walks UTC minute by minute and asks, for each minute, whether Paris wall time is inside
C1's hours on a non-holiday. Europe/Paris offsets are whole hours, so every UTC minute is
entirely open or entirely closed. Slow by design; only for cross-checking.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")
_FR_HOLIDAYS = set(holidays.country_holidays("FR", years=range(2018, 2040)))
_OPEN_MINUTES = {0: (540, 1080), 1: (540, 1080), 2: (540, 1080), 3: (540, 1080), 4: (540, 1020)}


def is_open_minute(minute_start: int) -> bool:
    local = datetime.fromtimestamp(minute_start, PARIS)
    hours = _OPEN_MINUTES.get(local.weekday())
    if hours is None or local.date() in _FR_HOLIDAYS:
        return False
    return hours[0] <= local.hour * 60 + local.minute < hours[1]


def reference_business_seconds(start: datetime, end: datetime) -> int:
    start_ts, end_ts = int(start.timestamp()), int(end.timestamp())
    total = 0
    minute = start_ts - start_ts % 60
    while minute < end_ts:
        if is_open_minute(minute):
            total += min(minute + 60, end_ts) - max(minute, start_ts)
        minute += 60
    return total


def reference_add_business_seconds(start: datetime, seconds: int) -> datetime:
    start_ts = int(start.timestamp())
    if seconds == 0:
        return datetime.fromtimestamp(start_ts, UTC)
    remaining = seconds
    minute = start_ts - start_ts % 60
    while True:
        if is_open_minute(minute):
            first = max(minute, start_ts)
            available = minute + 60 - first
            if remaining <= available:
                return datetime.fromtimestamp(first + remaining, UTC)
            remaining -= available
        minute += 60

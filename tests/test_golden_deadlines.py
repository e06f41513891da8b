"""Golden file of 2 h / 4 h / 72 h deadlines over a grid of 2026 creation times.

A change in the engine, the calendar file or the `holidays` package shows up here as a
reviewable JSON diff. Regenerate with ``pytest --update-snapshots``.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sla_tracker.core.calendar import BusinessCalendar
from sla_tracker.core.instants import format_instant
from tests.conftest import ROOT

SNAPSHOT = ROOT / "tests" / "snapshots" / "fr-support-2026-deadlines.json"
PARIS = ZoneInfo("Europe/Paris")
GRID_TIMES = [time(0), time(8, 59), time(9), time(10, 30), time(16, 30), time(17), time(17, 59)]
TARGET_HOURS = (2, 4, 72)


def build_grid(cal: BusinessCalendar) -> list[dict[str, str]]:
    rows = []
    day = date(2026, 1, 1)
    while day.year == 2026:
        for wall in GRID_TIMES:
            created = datetime.combine(day, wall, tzinfo=PARIS)
            row = {"created_paris": created.strftime("%Y-%m-%d %H:%M %a")}
            for hours in TARGET_HOURS:
                row[f"{hours}h"] = format_instant(cal.add_business_seconds(created, hours * 3600))
            rows.append(row)
        day += timedelta(days=1)
    return rows


def test_deadlines_match_the_golden_file(
    fr_calendar: BusinessCalendar, update_snapshots: bool
) -> None:
    rows = build_grid(fr_calendar)
    if update_snapshots:
        SNAPSHOT.write_text(
            "[\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]\n",
            encoding="utf-8",
        )
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == rows

"""Calendar engine speed: µs per op of `between` and `deadline`, side by side in one run with
businesstimedelta (day-by-day walk) and the tests' brute-force reference (minute walk).

Not a test. Run:
    .venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/calendar_bench.py
Workload: 100,000 random pairs, starts over 2024–2030 (a third of them on nights, weekends,
holidays, DST weekends and exact window boundaries ± 1 s), lengths from minutes to 60 days.
The comparison libraries run on a subsample (they are 100–10,000× slower); every answer
they give is checked against the engine's.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import businesstimedelta
import holidays
import pytz

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sla_tracker.calendar_files import load_calendar_file
from tests.reference_calendar import (
    reference_add_business_seconds,
    reference_business_seconds,
)

if TYPE_CHECKING:
    from collections.abc import Callable

PARIS = ZoneInfo("Europe/Paris")
HARD_TIMES = [time(0), time(8, 59), time(9), time(12), time(17), time(18), time(23, 30)]


def hard_days() -> list[date]:
    days = set()
    for year in range(2024, 2031):
        for holiday in holidays.country_holidays("FR", years=year):
            days.update({holiday - timedelta(days=1), holiday, holiday + timedelta(days=1)})
        for month in (3, 10):  # DST weekends: last Sunday of March and October
            last = date(year, month, 31)
            sunday = last - timedelta(days=(last.weekday() + 1) % 7)
            days.update(sunday + timedelta(days=offset) for offset in range(-2, 2))
    return sorted(days)


def workload(count: int, seed: int) -> list[tuple[datetime, datetime, int]]:
    """(start, end, budget seconds) triples; the budget is the pair's length in seconds."""
    rng = random.Random(seed)
    lo = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp())
    hi = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp())
    special = hard_days()
    pairs = []
    for _ in range(count):
        if rng.random() < 1 / 3:
            wall = datetime.combine(rng.choice(special), rng.choice(HARD_TIMES), tzinfo=PARIS)
            start = (wall + timedelta(seconds=rng.choice((-1, 0, 1)))).astimezone(UTC)
        else:
            start = datetime.fromtimestamp(rng.randrange(lo, hi), UTC)
        length = int(60 * 10 ** rng.uniform(0, 3.9375))  # 1 minute … 60 days, log-uniform
        pairs.append((start, start + timedelta(seconds=length), length))
    return pairs


def per_op_us(function: object, pairs: list[tuple[datetime, datetime, int]]) -> float:
    started = clock.perf_counter()
    for start, end, budget in pairs:
        function(start, end, budget)  # type: ignore[operator]
    return (clock.perf_counter() - started) / len(pairs) * 1e6


def timed_calls(
    function: Callable[[datetime, Any], object], args: list[tuple[datetime, Any]], rounds: int
) -> float:
    """µs per call, best of `rounds`, with nothing but the call and the loop timed."""
    best = float("inf")
    for _ in range(rounds):
        started = clock.perf_counter()
        for first, second in args:
            function(first, second)
        best = min(best, clock.perf_counter() - started)
    return best / len(args) * 1e6


def businesstimedelta_rules() -> businesstimedelta.Rules:
    tz = pytz.timezone("Europe/Paris")
    return businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(time(9), time(18), working_days=[0, 1, 2, 3], tz=tz),
            businesstimedelta.WorkDayRule(time(9), time(17), working_days=[4], tz=tz),
            businesstimedelta.HolidayRule(
                holidays.country_holidays("FR", years=range(2023, 2040)), tz=tz
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--btd-pairs", type=int, default=2_000)
    parser.add_argument("--brute-pairs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rounds", type=int, default=3, help="engine: best of N passes")
    args = parser.parse_args()

    pairs = workload(args.pairs, args.seed)
    cal = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
    between, deadline = cal.business_seconds, cal.add_business_seconds
    rules = businesstimedelta_rules()

    # Warm up: the engine builds its table for 2023–2032 once; that cost is reported apart.
    started = clock.perf_counter()
    between(pairs[0][0], pairs[0][1])
    deadline(pairs[0][0], 3600)
    build_ms = (clock.perf_counter() - started) * 1e3
    for start, end, budget in pairs:
        between(start, end)
        deadline(start, budget)

    starts_ends = [(start, end) for start, end, _ in pairs]
    starts_budgets = [(start, budget) for start, _, budget in pairs]
    results = {
        "engine between": timed_calls(between, starts_ends, args.rounds),
        "engine deadline": timed_calls(deadline, starts_budgets, args.rounds),
    }
    btd_pairs = pairs[: args.btd_pairs]
    results["businesstimedelta between"] = per_op_us(
        lambda s, e, b: rules.difference(s, e), btd_pairs
    )
    results["businesstimedelta deadline"] = per_op_us(
        lambda s, e, b: s + businesstimedelta.BusinessTimeDelta(rules, seconds=b), btd_pairs
    )
    brute_pairs = pairs[: args.brute_pairs]
    results["brute force between"] = per_op_us(
        lambda s, e, b: reference_business_seconds(s, e), brute_pairs
    )
    results["brute force deadline"] = per_op_us(
        lambda s, e, b: reference_add_business_seconds(s, b), brute_pairs
    )

    disagreements = 0
    for start, end, budget in btd_pairs:
        delta = rules.difference(start, end)
        disagreements += delta.hours * 3600 + delta.seconds != between(start, end)
        disagreements += start + businesstimedelta.BusinessTimeDelta(
            rules, seconds=budget
        ) != deadline(start, budget)
    for start, end, budget in brute_pairs:
        disagreements += reference_business_seconds(start, end) != between(start, end)
        disagreements += reference_add_business_seconds(start, budget) != deadline(start, budget)

    print(f"# calendar_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"pairs: engine {len(pairs):,}, businesstimedelta {len(btd_pairs):,}, "
        f"brute force {len(brute_pairs):,}; seed {args.seed}"
    )
    print(f"engine figures: best of {args.rounds} passes over all pairs")
    print(f"table build (first query, 2023–2032): {build_ms:.1f} ms")
    for name, micros in results.items():
        print(f"{name:28s} {micros:12.2f} µs/op")
    for op in ("between", "deadline"):
        ratio = results[f"businesstimedelta {op}"] / results[f"engine {op}"]
        print(f"speed-up over businesstimedelta, {op}: {ratio:,.0f}×")
    print(f"answers that differ from the engine's: {disagreements}")


if __name__ == "__main__":
    main()

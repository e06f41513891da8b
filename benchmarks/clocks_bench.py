"""Clock recomputation: every clock of 100,000 stored simulator tickets, end to end on SQLite
(reads, classification, clocks) and in the pure engine alone.

Not a test. Run:
    .venv/bin/python benchmarks/clocks_bench.py [--tickets 100000] [--database PATH]

Without --database it first syncs a fresh simulator account into a temporary SQLite file
(which takes a while); with it, it reuses that file (it is created when missing). Each
measurement runs in a fresh worker process so that its peak RSS is its own. The same worker
also times the calendar engine's `between` on the same machine, so figures from a slower or
busier machine can be put in proportion.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

NOW = "2026-11-26T12:00:00Z"


def build(database: Path, tickets: int) -> None:
    from sync_bench import run_worker, start_simulator

    simulator, url = start_simulator(tickets)
    try:
        run_worker(url, f"sqlite:///{database}", NOW)
    finally:
        simulator.terminate()
        simulator.wait()


def worker(database: str) -> None:
    from sla_tracker.calendar_files import load_named_calendar
    from sla_tracker.config import Settings
    from sla_tracker.core.clocks import response_clock, restoration_clock
    from sla_tracker.core.instants import parse_instant
    from sla_tracker.judge import evaluate_tickets
    from sla_tracker.policies import policy_from_settings
    from sla_tracker.storage.schema import open_store

    settings = Settings.model_validate({"pause": {"statuses": [3, 6]}})
    calendar = load_named_calendar(settings.calendar.name, settings)
    now = parse_instant(NOW)
    engine = open_store(f"sqlite:///{database}")
    # The first evaluation after a backfill classifies every ticket and keeps the rules'
    # verdicts; every later one (the service's steady state) reuses them.
    started = time.perf_counter()
    evaluate_tickets(engine, settings, calendar, now=now, keep_verdicts=True)  # the service
    first = time.perf_counter() - started
    started = time.perf_counter()
    reports = evaluate_tickets(engine, settings, calendar, now=now)
    end_to_end = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    policy = policy_from_settings(settings)
    # The listing keeps no histories (to stay small); the one-ticket form does.
    detailed = evaluate_tickets(engine, settings, calendar, now=now, with_transitions=True)
    histories = [report.history for report in detailed if report.history is not None]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for history in histories:
            response_clock(history, calendar, policy, now=now)
            restoration_clock(history, calendar, policy, now=now)
        best = min(best, time.perf_counter() - started)
    rng = random.Random(1)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    pairs = [(base + timedelta(seconds=rng.randrange(3 * 10**7)),) * 2 for _ in range(50_000)]
    pairs = [(a, a + timedelta(seconds=rng.randrange(10**6))) for a, _ in pairs]
    started = time.perf_counter()
    for start, end in pairs:
        calendar.business_seconds(start, end)
    between_us = (time.perf_counter() - started) / len(pairs) * 1e6
    states: dict[str, int] = {}
    for report in reports:
        for clock in (report.response, report.restoration):
            states[f"{clock.name} {clock.state}"] = states.get(f"{clock.name} {clock.state}", 0) + 1
    print(json.dumps({"tickets": len(reports), "end_to_end_s": end_to_end, "first_s": first, "peak_rss_mb": peak_mb,
                      "engine_us_per_ticket": best / len(histories) * 1e6,
                      "calendar_between_us": between_us, "states": states}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    with tempfile.TemporaryDirectory() as folder:
        database = args.database or Path(folder) / "clocks.db"
        if not database.exists():
            started = time.perf_counter()
            build(database, args.tickets)
            print(
                f"(built {database} with {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s)"
            )
        output = subprocess.run([sys.executable, __file__, "--worker", str(database)],
                                check=True, capture_output=True, text=True).stdout  # fmt: skip
    result = json.loads(output.strip().splitlines()[-1])
    print(f"# clocks_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"tickets judged: {result['tickets']:,} (both clocks each)")
    print(
        f"first evaluation after the backfill (classifies all, keeps the verdicts): {result['first_s']:.1f} s"
    )
    print(
        f"end to end on SQLite, every later evaluation (reads + decisions + clocks): {result['end_to_end_s']:.1f} s"
    )
    print(
        f"pure engine (response + restoration clocks): {result['engine_us_per_ticket']:.1f} µs/ticket"
    )
    print(f"peak RSS: {result['peak_rss_mb']:.0f} MB")
    print(
        f"same run, calendar between: {result['calendar_between_us']:.2f} µs/op (machine-speed reference)"
    )
    print("clock states: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result["states"].items())))


if __name__ == "__main__":
    main()

"""Full sync at scale (issue 12.5): 100,000 simulator tickets into SQLite and 1,000,000 into
PostgreSQL, each sync a whole process (the sync of `sla-tracker sync`, without the judgment
refresh that follows it) measured from outside with `/usr/bin/time -v` (wall time, peak RSS).

Not a test. Run:
    .venv/bin/python benchmarks/bench_sync_scale.py [--sqlite 100000] [--postgres 1000000]
        [--runs 3] [--dir /root/bench]

The simulator (`sla-tracker simulator serve`, seed 2026, no rate limit) runs in its own
process, as Freshdesk would be remote; above 50,000 tickets it generates each ticket from
its id on demand. Each run syncs into an empty database (a fresh SQLite file under --dir, a
fresh PostgreSQL schema). Databases stay outside the repository.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-26T12:00:00Z"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SLA_TRACKER = str(Path(sys.executable).with_name("sla-tracker"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_simulator(tickets: int) -> tuple[subprocess.Popen[bytes], str, float]:
    """The simulator and how long it took to answer (a lazy account indexes every ticket)."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen(
        [SLA_TRACKER, "simulator", "serve", "--port", str(port), "--tickets", str(tickets),
         "--seed", "2026"],
        env={**os.environ, "SLA_TRACKER_NOW": NOW}, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    while time.perf_counter() - started < 600:
        try:
            requests.get(url + "/_sim/state", timeout=1)
            return process, url, time.perf_counter() - started
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("simulator did not start within 10 minutes")


def fresh_postgres_schema(schema: str) -> str:
    import sqlalchemy

    engine = sqlalchemy.create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


def worker(url: str, database: str) -> None:
    """The sync alone, as `sla-tracker sync` runs it before refreshing judgments (those are
    measured apart, as the first judgment after the backfill); prints its summary."""
    sys.path.insert(0, str(ROOT))
    from sla_tracker.config import Settings
    from sla_tracker.core.instants import parse_instant
    from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
    from sla_tracker.storage.schema import open_store
    from sla_tracker.sync import sync_once

    settings = Settings.model_validate({"sync": {"start_date": "2025-01-01"}})
    client = FreshdeskClient(url, "sim-key", calls_per_minute=None)
    report = sync_once(client, open_store(database), settings, now=parse_instant(NOW))
    print(report.summary())


def timed_sync(url: str, database: str) -> dict[str, float | str]:
    """One sync process under /usr/bin/time -v: wall seconds, peak RSS, its summary."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", sys.executable, __file__, "--worker", url, database],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)
    assert wall and rss and cpu, done.stderr[-500:]
    hours, minutes, seconds = wall.groups()
    new = re.search(r"([\d,]+) new", done.stdout)
    return {
        "seconds": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
        "peak_mb": int(rss.group(1)) / 1024,
        "cpu_seconds": sum(float(part) for part in cpu),
        "new": float(new.group(1).replace(",", "")) if new else 0.0,
        "summary": done.stdout.strip().splitlines()[-1],
    }


def calendar_reference_us() -> float:
    """The calendar benchmark's `between`, timed here: this VM's speed drifts by up to 1.7x."""
    import timeit
    from datetime import timedelta

    sys.path.insert(0, str(ROOT))
    from sla_tracker.calendar_files import load_calendar_file

    calendar = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
    start = datetime(2026, 3, 2, tzinfo=UTC)
    end = start + timedelta(days=30)
    runs = timeit.repeat(lambda: calendar.business_seconds(start, end), number=100_000, repeat=3)
    return min(runs) * 10


def spread(values: list[float], unit: str, digits: int = 1) -> str:
    if len(values) == 1:
        return f"{values[0]:,.{digits}f} {unit}"
    low, middle, high = min(values), statistics.median(values), max(values)
    return f"{low:,.{digits}f} / **{middle:,.{digits}f}** / {high:,.{digits}f} {unit}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sqlite", type=int, default=100_000, help="tickets (0: skip)")
    parser.add_argument("--postgres", type=int, default=1_000_000, help="tickets (0: skip)")
    parser.add_argument("--runs", type=int, default=3, help="runs per database")
    parser.add_argument("--postgres-runs", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=Path("/root/bench"))
    parser.add_argument("--worker", nargs=2, metavar=("URL", "DATABASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"# bench_sync_scale — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"machine-speed reference, calendar between: {calendar_reference_us():.2f} µs/op "
          f"(1.57 at best); load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print("| tickets | database | runs | wall seconds min / median / max | tickets/s (median) "
          "| sync CPU seconds (median) | peak RSS MB min / median / max | simulator start (s) |")  # fmt: skip
    print("|---:|---|---:|---|---:|---:|---|---:|")
    plans = [("SQLite", args.sqlite, args.runs), ("PostgreSQL", args.postgres, args.postgres_runs)]
    for name, size, runs in plans:
        if not size or not runs:
            continue
        simulator, url, startup = start_simulator(size)
        results = []
        try:
            for run in range(runs):
                if name == "SQLite":
                    path = args.dir / f"bench-{size}-{run}.db"
                    path.unlink(missing_ok=True)
                    database = f"sqlite:///{path}"
                else:
                    database = fresh_postgres_schema(f"bench_scale_{size}")
                results.append(timed_sync(url, database))
                print(f"  run {run + 1}: {results[-1]['summary']} "
                      f"(peak RSS {results[-1]['peak_mb']:.0f} MB)", file=sys.stderr)  # fmt: skip
                if name == "SQLite":
                    path.unlink(missing_ok=True)
        finally:
            simulator.terminate()
            simulator.wait()
        seconds = [float(result["seconds"]) for result in results]
        peaks = [float(result["peak_mb"]) for result in results]
        rate = float(results[0]["new"]) / statistics.median(seconds)
        cpu = statistics.median(float(result["cpu_seconds"]) for result in results)
        print(f"| {size:,} | {name} | {runs} | {spread(seconds, 's')} | {rate:,.0f} | "
              f"{cpu:,.0f} | {spread(peaks, 'MB', 0)} | {startup:.0f} |")  # fmt: skip
        print(f"  machine-speed reference after these runs: {calendar_reference_us():.2f} µs/op; "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        for result in results:
            print(f"  - {result['summary']}")


if __name__ == "__main__":
    main()

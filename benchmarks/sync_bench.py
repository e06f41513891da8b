"""Sync speed: full syncs of 30,000 and 100,000 simulator tickets into SQLite and PostgreSQL,
then an incremental sync after 100 tickets change.

Not a test. Run:
    .venv/bin/python benchmarks/sync_bench.py [--sizes 30000 100000] [--no-postgres]

The simulator runs in its own process (rate limit off), as Freshdesk would be remote; each
sync runs in a fresh worker process so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-26T12:00:00Z"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_simulator(tickets: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "sla_tracker", "simulator", "serve", "--port", str(port),
               "--tickets", str(tickets), "--seed", "2026"]  # fmt: skip
    process = subprocess.Popen(
        command, env={**os.environ, "SLA_TRACKER_NOW": NOW}, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(3000):  # a million generated tickets take about 45 s to index
        try:
            requests.get(url + "/_sim/state", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("simulator did not start")


def worker(url: str, database: str, now: str) -> None:
    """One sync in this process; prints its report, its duration and its own peak RSS."""
    sys.path.insert(0, str(ROOT))
    from sla_tracker.config import Settings
    from sla_tracker.core.instants import parse_instant
    from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
    from sla_tracker.storage.schema import open_store
    from sla_tracker.sync import sync_once

    settings = Settings.model_validate({"sync": {"start_date": "2025-01-01"}})
    engine = open_store(database)
    client = FreshdeskClient(url, "sim-key", calls_per_minute=None)
    started = time.perf_counter()
    report = sync_once(client, engine, settings, now=parse_instant(now))
    seconds = time.perf_counter() - started
    list_calls = report.pages
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "new": report.tickets_new, "updated": report.tickets_updated,
                      "api_calls": report.api_calls, "list_calls": list_calls, "credits": report.credits,
                      "passes": report.passes, "peak_rss_mb": peak_mb}))  # fmt: skip


def run_worker(url: str, database: str, now: str) -> dict[str, object]:
    output = subprocess.run(
        [sys.executable, __file__, "--worker", url, database, now],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(json.loads(output.strip().splitlines()[-1]))


def calendar_reference_us() -> float:
    """The calendar benchmark's `between`, timed here: this VM's speed drifts by up to 1.7x."""
    import timeit
    from datetime import timedelta

    from sla_tracker.calendar_files import load_calendar_file

    calendar = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
    start = datetime(2026, 3, 2, tzinfo=UTC)
    end = start + timedelta(days=30)
    runs = timeit.repeat(lambda: calendar.business_seconds(start, end), number=100_000, repeat=3)
    return min(runs) * 10


def reset_postgres_schema(schema: str) -> str:
    import sqlalchemy

    engine = sqlalchemy.create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(sqlalchemy.text(f"CREATE SCHEMA {schema}"))
    return f"{POSTGRES}?options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[30_000, 100_000])
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--worker", nargs=3, metavar=("URL", "DATABASE", "NOW"))
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    print(f"# sync_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"machine-speed reference, calendar between: {calendar_reference_us():.2f} µs/op (1.57 at best)"
    )
    print(
        "| tickets | database | seconds | tickets/s | list calls / 100 tickets | credits / 100 tickets | peak RSS (MB) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    incremental = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            simulator, url = start_simulator(size)
            try:
                databases = [("SQLite", f"sqlite:///{folder}/bench-{size}.db")]
                if not args.no_postgres:
                    databases.append(("PostgreSQL", reset_postgres_schema(f"bench_{size}")))
                for name, database in databases:
                    full = run_worker(url, database, NOW)
                    rate = float(full["new"]) / float(full["seconds"])  # type: ignore[arg-type]
                    per_100 = 100 / float(full["new"])  # type: ignore[arg-type]
                    print(f"| {size:,} | {name} | {full['seconds']:.1f} | {rate:,.0f} | "
                          f"{float(full['list_calls']) * per_100:.2f} | {float(full['credits']) * per_100:.2f} | "  # type: ignore[arg-type]
                          f"{full['peak_rss_mb']:.0f} |")  # fmt: skip
                    if name == "SQLite":
                        # 100 customers reply over ten minutes, one every 6 s.
                        for ticket_id in range(1, 101):
                            requests.post(
                                url + "/_sim/clock", json={"advance_seconds": 6}, timeout=10
                            )
                            requests.post(
                                f"{url}/_sim/tickets/{ticket_id}",
                                json={"event": "customer_reply"},
                                timeout=10,
                            )
                        later = datetime.fromisoformat(NOW.replace("Z", "+00:00")).timestamp() + 600
                        step = run_worker(
                            url,
                            database,
                            datetime.fromtimestamp(later, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        )
                        incremental.append((size, step))
            finally:
                simulator.terminate()
                simulator.wait()
    print()
    print("Incremental sync after 100 tickets changed (SQLite, 10 minutes later):")
    for size, step in incremental:
        per_ticket = int(step["api_calls"]) - int(step["list_calls"])  # type: ignore[call-overload]
        print(f"- {size:,} tickets: {step['updated']} updated in {step['seconds']:.2f} s with "
              f"{step['list_calls']} list call(s), {per_ticket} other call(s) "
              f"(passes: {', '.join(step['passes'])})")  # type: ignore[arg-type]  # fmt: skip


if __name__ == "__main__":
    main()

"""The web board and a ticket page over 100,000 stored simulator tickets: server time per
request (from the request reaching the application to its last byte), median of several.

Not a test. Run:
    .venv/bin/python benchmarks/bench_web.py [--tickets 100000] [--database PATH] [--runs 15]

Without --database it first syncs a fresh simulator account into a temporary SQLite file
(as clocks_bench.py does, which takes a while); with it, it reuses that file (created when
missing). The kept judgments are refreshed first, as the service does after a poll. The
calendar engine's `between` is timed in the same process, as the machine-speed reference.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

NOW = "2026-11-26T12:00:00Z"


class ServerTime:
    """ASGI middleware: how long the application took, first byte in to last byte out."""

    def __init__(self, app: Any) -> None:
        self.app, self.seconds = app, [0.0]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()

        async def timed(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.seconds.append(time.perf_counter() - started)

        await self.app(scope, receive, timed)


def spread(values: list[float]) -> str:
    ms = [value * 1000 for value in values]
    return f"min {min(ms):.1f} / median {statistics.median(ms):.1f} / max {max(ms):.1f} ms"


def main() -> None:
    from bench_sync_scale import calendar_reference_us
    from clocks_bench import build
    from fastapi.testclient import TestClient

    from sla_tracker.calendar_files import load_named_calendar
    from sla_tracker.config import Settings
    from sla_tracker.core.instants import parse_instant
    from sla_tracker.judgments import Judgments
    from sla_tracker.storage.schema import open_store
    from sla_tracker.web.app import WebContext, create_app
    from sla_tracker.web.queries import Reader

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = args.database or Path(folder) / "web.db"
        if not database.exists():
            build(database, args.tickets)
        settings = Settings.model_validate({"pause": {"statuses": [3, 6]}})
        calendar = load_named_calendar(settings.calendar.name, settings)
        engine = open_store(f"sqlite:///{database}")
        now = parse_instant(NOW)
        started = time.perf_counter()
        refreshed = Judgments(engine, settings, calendar, now).refresh()
        refresh = time.perf_counter() - started
        timer = ServerTime(create_app(WebContext(Reader(engine, settings, calendar), lambda: now)))
        client = TestClient(timer)
        board = client.get("/api/board").json()
        ticket_id = board["tickets"][0]["id"]
        results = {}
        for name, path in (("board (HTML)", "/"), ("board rows (refresh)", "/board/rows"),
                           ("board (JSON)", "/api/board"),
                           (f"ticket page #{ticket_id}", f"/tickets/{ticket_id}")):  # fmt: skip
            assert client.get(path).status_code == 200  # warm: templates compiled, caches
            timer.seconds.clear()
            for _ in range(args.runs):
                client.get(path)
            results[name] = spread(timer.seconds)
    print(f"# bench_web — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"machine-speed reference, calendar between: {calendar_reference_us():.2f} µs/op")
    print(f"stored tickets: {args.tickets:,}; judgments refreshed first: {refreshed:,} "
          f"in {refresh:.1f} s; on the board: {board['total']:,} (first 100 shown)")  # fmt: skip
    for name, figures in results.items():
        print(f"{name}: {figures} (server time, {args.runs} runs)")


if __name__ == "__main__":
    main()

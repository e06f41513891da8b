"""Weekly report over 100,000 stored simulator tickets: build (all queries) and render.

Not a test. Run:
    .venv/bin/python benchmarks/report_bench.py [--database PATH]

Reuses (or builds, as clocks_bench.py does) a SQLite file synced from the simulator.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

NOW = "2026-11-26T12:00:00Z"


def main() -> None:
    from clocks_bench import build

    from sla_tracker.calendar_files import load_named_calendar
    from sla_tracker.config import Settings
    from sla_tracker.core.instants import parse_instant
    from sla_tracker.present.emails import render_weekly_report
    from sla_tracker.reports.weekly import build_weekly_report
    from sla_tracker.storage.schema import open_store

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = args.database or Path(folder) / "report.db"
        if not database.exists():
            build(database, args.tickets)
        settings = Settings.model_validate({"pause": {"statuses": [3, 6]}})
        calendar = load_named_calendar(settings.calendar.name, settings)
        engine = open_store(f"sqlite:///{database}")
        now = parse_instant(NOW)
        started = time.perf_counter()
        report = build_weekly_report(engine, settings, calendar, week="2026-W47", now=now)
        built = time.perf_counter()
        rendered = render_weekly_report(report, language="fr", calendar=calendar)
        done = time.perf_counter()
    print(f"# report_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"tickets received in the week: {sum(report.received.values()):,}; breaches listed: {len(report.breaches):,}"
    )
    print(
        f"build {built - started:.2f} s, render {done - built:.3f} s ({len(rendered.html):,} bytes of HTML)"
    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

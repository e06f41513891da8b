"""Indemnities for 1,000 customers and 100,000 tickets: 5 % GTR-eligible, 20 % of those
breached; restoration clocks, then SPEC §5 per customer on both bases and both overlap modes.

Not a test. Run:  .venv/bin/python benchmarks/indemnity_bench.py
The tickets are generated in memory (seeded): this measures the pure engines
(core/clocks.py + core/indemnity.py) the way `sla-tracker indemnities` calls them.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sla_tracker.calendar_files import load_calendar_file
from sla_tracker.core.classification import Severity
from sla_tracker.core.clocks import (
    ClockPolicy,
    ClockState,
    Phase,
    StatusChange,
    TicketHistory,
    restoration_clock,
)
from sla_tracker.core.indemnity import Basis, Breach, Contract, FeeVersion, Overlap, indemnities

CUSTOMERS, TICKETS = 1_000, 100_000
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def generate(rng: random.Random) -> tuple[dict[int, Contract], list[tuple[int, TicketHistory]]]:
    contracts = {
        customer: Contract(
            customer,
            rng.choice(["monthly", "annual", "annual", "two_years"]),
            date(2025, rng.randrange(1, 13), rng.randrange(1, 29)),
            (FeeVersion(date(2025, 1, 1), Decimal(rng.choice([1200, 6000, 24000]))),),
        )
        for customer in range(CUSTOMERS)
    }
    tickets = []
    start = NOW - timedelta(days=330)
    for _ in range(TICKETS):
        created = start + timedelta(minutes=rng.randrange(320 * 24 * 60))
        eligible = rng.random() < 0.05
        slow = rng.random() < 0.2
        restored_after = timedelta(hours=rng.uniform(300, 600) if slow else rng.uniform(1, 90))
        changes = [StatusChange(created, Phase.OPEN)]
        if rng.random() < 0.3:
            pause = created + timedelta(hours=rng.uniform(1, 40))
            changes += [
                StatusChange(pause, Phase.PAUSED),
                StatusChange(pause + timedelta(hours=rng.uniform(1, 30)), Phase.OPEN),
            ]
        restored = created + restored_after
        if restored < NOW:  # the ones restored after NOW are still open: provisional amounts
            changes.append(
                StatusChange(max(restored, changes[-1].at + timedelta(minutes=1)), Phase.RESTORED)
            )
        history = TicketHistory(
            created_at=created,
            changes=changes,
            severities=[(created, Severity.BLOCKING if eligible else Severity.MAJOR)],
            gtr_eligible=eligible,
            gtr_reasons=() if eligible else ("severity is major, not blocking (C8)",),
        )
        tickets.append((rng.randrange(CUSTOMERS), history))
    return contracts, tickets


def main() -> None:
    calendar = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
    policy = ClockPolicy(response_seconds={Severity.BLOCKING: 7200, Severity.MAJOR: 14400})
    contracts, tickets = generate(random.Random(2026))
    calendar.business_seconds(NOW - timedelta(days=800), NOW + timedelta(days=800))  # table built
    print(f"# indemnity_bench — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    for basis in Basis:
        for overlap in Overlap:
            started = time.perf_counter()
            breaches: dict[int, list[Breach]] = {}
            for ticket_id, (customer, history) in enumerate(tickets):
                clock = restoration_clock(history, calendar, policy, now=NOW)
                if clock.breached_at and clock.state in (
                    ClockState.BREACHED,
                    ClockState.BREACHED_CLOSED,
                ):
                    end = clock.stopped_at or NOW
                    holes = tuple(
                        i for i, _ in clock.not_counted if i[0] < end and i[1] > clock.breached_at
                    )
                    breaches.setdefault(customer, []).append(
                        Breach(
                            ticket_id, clock.breached_at, end, clock.stopped_at is not None, holes
                        )
                    )
            clocks_done = time.perf_counter()
            amounts = [
                amount
                for customer, found in breaches.items()
                for amount in indemnities(
                    contracts[customer], found, calendar, basis=basis, overlap=overlap
                )
            ]
            done = time.perf_counter()
            total = sum((a.amount for a in amounts), Decimal(0))
            breached = sum(len(found) for found in breaches.values())
            print(
                f"{basis:8s} {overlap:5s}: {done - started:.2f} s for {TICKETS:,} tickets "
                f"(restoration clocks {clocks_done - started:.2f} s, indemnities {done - clocks_done:.3f} s); "
                f"{breached:,} breached GTR tickets, {len(breaches):,} customers, "
                f"{len(amounts):,} customer-periods, {sum(a.capped for a in amounts)} capped, total {total} EUR"
            )


if __name__ == "__main__":
    main()

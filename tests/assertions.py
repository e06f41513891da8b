"""Assertion helpers shared by the test modules: readable failures for the domain's values."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sla_tracker.core.clocks import Clock

PARIS = ZoneInfo("Europe/Paris")


def paris(text: str) -> datetime:
    """A Paris wall time, as the contract's examples write them."""
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def assert_deadline(clock: Clock, local: str, *, breached_at: str | None = None) -> None:
    """A clock's deadline (and breach instant) as Paris wall times, with a readable failure."""
    assert clock.deadline is not None, f"{clock.name}: no deadline ({clock.state})"
    shown = clock.deadline.astimezone(PARIS).strftime("%Y-%m-%d %H:%M")
    assert clock.deadline == paris(local), f"{clock.name} deadline {shown}, expected {local}"
    if breached_at is not None:
        assert clock.breached_at == paris(breached_at), (
            f"{clock.name} breached_at {clock.breached_at}, expected {breached_at}"
        )

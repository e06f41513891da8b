"""Kept judgments (issue 12): a clock judged once and advanced with time equals the clock
recomputed from the whole history, at any later instant before the history's next event."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sla_tracker.core.classification import Severity
from sla_tracker.core.clocks import (
    Clock,
    ClockPolicy,
    Exclusion,
    Phase,
    StatusChange,
    TicketHistory,
    advance,
    breach_instant,
    next_event_after,
    response_clock,
    restoration_clock,
    risk_instant,
)
from tests.core.test_clocks import CAL, HOUR, paris

MINUTES = st.integers(0, 20 * 24 * 60)  # three weeks: weekends, a holiday, the DST change
SECONDS = st.integers(0, 59)
PHASES = st.sampled_from([Phase.OPEN, Phase.PAUSED, Phase.RESTORED])
POLICIES = st.builds(
    ClockPolicy,
    response_seconds=st.just({Severity.BLOCKING: 2 * HOUR, Severity.MAJOR: 4 * HOUR}),
    restoration_seconds=st.sampled_from([72 * HOUR, 3 * HOUR]),
    reopen=st.sampled_from(["continuous", "paused"]),
    severity_change=st.sampled_from(["retroactive", "from_change"]),
    ends_on_customer_reply=st.booleans(),
)
CREATED = paris("2026-10-19 16:20")  # the autumn DST change and 1 and 11 November follow


def _at(minutes: int, seconds: int = 0) -> datetime:
    return CREATED + timedelta(minutes=minutes, seconds=seconds)


@st.composite
def histories(draw: st.DrawFn) -> TicketHistory:
    changes = sorted(draw(st.lists(st.tuples(MINUTES, PHASES), max_size=6)))
    replies = sorted(draw(st.lists(MINUTES, max_size=3)))
    bounds = draw(st.lists(st.tuples(MINUTES, st.integers(1, 5 * 24 * 60)), max_size=2))
    later = draw(st.lists(st.tuples(MINUTES, st.sampled_from(list(Severity))), max_size=2))
    severities = [(CREATED, draw(st.sampled_from([Severity.BLOCKING, Severity.MAJOR])))]
    severities += [(_at(m), severity) for m, severity in sorted(later) if m > 0]
    return TicketHistory(
        created_at=CREATED,
        changes=[StatusChange(CREATED, Phase.OPEN)]
        + [StatusChange(_at(m, 1), phase) for m, phase in changes],
        severities=severities,
        customer_replies=[_at(m, 2) for m in replies],
        exclusions=[Exclusion("maintenance", _at(a), _at(a + b)) for a, b in bounds],
        gtr_eligible=True,
    )


def _comparable(clock: Clock) -> Clock:
    """What a kept judgment carries: everything but the pause and exclusion detail."""
    return clock._replace(not_counted=())


@settings(max_examples=400, deadline=None)
@given(histories(), POLICIES, MINUTES, SECONDS, st.integers(0, 10 * 24 * 3600))
def test_an_advanced_clock_equals_the_recomputed_one(
    history: TicketHistory, policy: ClockPolicy, judged: int, second: int, later: int
) -> None:
    """At a random later instant and at every instant where the answer flips (the breach,
    the thresholds, the deadline, one second either side), before the next event."""
    judged_at = _at(judged, second)
    next_event = next_event_after(history, judged_at)
    for compute in (response_clock, restoration_clock):
        kept = compute(history, CAL, policy, now=judged_at)
        breach = breach_instant(kept, CAL, judged_at)
        risks = {
            threshold: risk_instant(kept, CAL, judged_at, threshold) for threshold in (0.5, 0.8)
        }
        flips = [at for at in (breach, kept.deadline, *risks.values()) if at is not None]
        nows = [judged_at + timedelta(seconds=later)]
        nows += [at + timedelta(seconds=shift) for at in flips for shift in (-1, 0, 1)]
        for now in nows:
            if now < judged_at or (next_event is not None and now >= next_event):
                continue
            recomputed = compute(history, CAL, policy, now=now)
            advanced = advance(kept, CAL, judged_at, now)
            assert _comparable(advanced) == _comparable(recomputed)._replace(
                counting=advanced.counting
            ), (kept, now)
            assert (breach is not None and breach < now) == (recomputed.breached_at is not None)
            for threshold, risk in risks.items():
                breached = breach is not None and breach < now
                at_risk = risk is not None and risk <= now and not breached
                assert at_risk == recomputed.at_risk(threshold) or not recomputed.contractual


def test_a_running_clock_crosses_its_deadline_at_the_next_opening() -> None:
    """SPEC example 5 kept: judged on Friday morning, advanced past the weekend."""
    history = TicketHistory(
        created_at=paris("2026-11-24 16:00"),
        changes=[StatusChange(paris("2026-11-24 16:00"), Phase.OPEN)],
        severities=[(paris("2026-11-24 16:00"), Severity.BLOCKING)],
        gtr_eligible=True,
    )
    policy = ClockPolicy(response_seconds={})
    kept = restoration_clock(history, CAL, policy, now=paris("2026-12-04 10:00"))
    assert breach_instant(kept, CAL, paris("2026-12-04 10:00")) == paris("2026-12-07 09:00")
    saturday = advance(kept, CAL, paris("2026-12-04 10:00"), paris("2026-12-05 12:00"))
    assert saturday.breached_at is None and saturday.remaining_seconds == 0
    monday = advance(kept, CAL, paris("2026-12-04 10:00"), paris("2026-12-07 09:00:01"))
    assert monday.breached_at == paris("2026-12-07 09:00") and monday.state == "breached"

"""Clocks per SPEC §4: targets, pauses, customer replies, reopen and severity policies,
exclusions, channels, states at every boundary, and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from sla_tracker.calendar_files import load_calendar_file
from sla_tracker.core.classification import Severity
from sla_tracker.core.clocks import (
    ClockPolicy,
    ClockState,
    Exclusion,
    Phase,
    StatusChange,
    TicketHistory,
    response_clock,
    restoration_clock,
)
from tests.assertions import assert_deadline
from tests.conftest import ROOT

PARIS = ZoneInfo("Europe/Paris")
CAL = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
HOUR = 3600
POLICY = ClockPolicy(response_seconds={Severity.BLOCKING: 2 * HOUR, Severity.MAJOR: 4 * HOUR})
OPEN, PENDING, RESOLVED, CLOSED = Phase.OPEN, Phase.PAUSED, Phase.RESTORED, Phase.RESTORED


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def history(created: str, *changes: tuple[str, int], severity: Severity = Severity.BLOCKING,
            **options: object) -> TicketHistory:  # fmt: skip
    start = paris(created)
    return TicketHistory(
        created_at=start,
        changes=[
            StatusChange(start, OPEN),
            *(StatusChange(paris(at), status) for at, status in changes),
        ],
        severities=[(start, severity)],
        gtr_eligible=True,
        **options,  # type: ignore[arg-type]
    )


def test_ex1_blocking_friday_1630_no_reply() -> None:
    ticket = history("2026-11-27 16:30")
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 10:00"))
    assert clock.state is ClockState.RUNNING
    assert clock.deadline == paris("2026-11-30 10:30")
    assert (clock.elapsed_seconds, clock.remaining_seconds) == (90 * 60, 30 * 60)
    later = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 10:31"))
    assert later.state is ClockState.BREACHED and later.breached_at == paris("2026-11-30 10:30")


def test_a_budget_spent_exactly_at_the_deadline_is_not_yet_breached() -> None:
    ticket = history("2026-11-27 16:30")
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 10:30"))
    assert clock.state is ClockState.RUNNING and clock.remaining_seconds == 0


def test_ex2_major_over_ascension() -> None:
    ticket = history("2026-05-13 16:00", severity=Severity.MAJOR)
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-05-13 16:00"))
    assert clock.deadline == paris("2026-05-15 11:00") and clock.target_seconds == 4 * HOUR


def test_response_met_and_breached_closed() -> None:
    met = history("2026-11-30 09:00", responded_at=paris("2026-11-30 10:59"))
    assert response_clock(met, CAL, POLICY, now=paris("2026-12-01 12:00")).state is ClockState.MET
    late = history("2026-11-30 09:00", responded_at=paris("2026-11-30 11:01"))
    clock = response_clock(late, CAL, POLICY, now=paris("2026-12-01 12:00"))
    assert clock.state is ClockState.BREACHED_CLOSED and clock.breached_at == paris(
        "2026-11-30 11:00"
    )


def test_pending_pauses_both_clocks() -> None:
    ticket = history("2026-11-30 09:00", ("2026-11-30 09:30", PENDING), ("2026-11-30 14:30", OPEN))
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 15:00"))
    assert clock.elapsed_seconds == 60 * 60 and clock.deadline == paris("2026-11-30 16:00")
    paused = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 12:00"))
    assert paused.state is ClockState.PAUSED and paused.elapsed_seconds == 30 * 60


def test_a_customer_reply_ends_the_pause_without_an_agent() -> None:
    ticket = history("2026-11-30 09:00", ("2026-11-30 09:30", PENDING),
                     customer_replies=[paris("2026-11-30 11:00")])  # fmt: skip
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 12:00"))
    assert clock.state is ClockState.RUNNING and clock.elapsed_seconds == 90 * 60
    strict = replace(POLICY, ends_on_customer_reply=False)
    assert (
        response_clock(ticket, CAL, strict, now=paris("2026-11-30 12:00")).state
        is ClockState.PAUSED
    )


def test_ex4_gtr_72_hours() -> None:
    ticket = history("2026-12-02 10:00", ("2026-12-16 15:00", RESOLVED))
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-12-20 10:00"))
    assert clock.state is ClockState.BREACHED_CLOSED
    assert clock.breached_at == paris("2026-12-14 12:00")
    assert clock.stopped_at == paris("2026-12-16 15:00")
    assert clock.elapsed_seconds == 72 * HOUR + 21 * HOUR


def test_reopen_continuous_counts_the_false_restoration() -> None:
    ticket = history("2026-11-30 09:00", ("2026-11-30 10:00", RESOLVED), ("2026-11-30 12:00", OPEN))
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-11-30 13:00"))
    assert clock.state is ClockState.RUNNING and clock.elapsed_seconds == 4 * HOUR
    paused = restoration_clock(
        ticket, CAL, replace(POLICY, reopen="paused"), now=paris("2026-11-30 13:00")
    )
    assert paused.elapsed_seconds == 2 * HOUR


def test_resolved_then_closed_is_one_restoration() -> None:
    ticket = history(
        "2026-11-30 09:00", ("2026-11-30 10:00", RESOLVED), ("2026-12-02 10:00", CLOSED)
    )
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-12-05 10:00"))
    assert clock.state is ClockState.MET and clock.stopped_at == paris("2026-11-30 10:00")


def test_severity_upgrade_under_both_policies() -> None:
    start = paris("2026-11-30 09:00")
    ticket = TicketHistory(
        created_at=start,
        changes=[StatusChange(start, OPEN)],
        severities=[(start, Severity.MINOR), (paris("2026-11-30 14:00"), Severity.BLOCKING)],
    )
    retro = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 14:30"))
    assert retro.state is ClockState.BREACHED and retro.breached_at == paris("2026-11-30 11:00")
    fresh = response_clock(
        ticket, CAL, replace(POLICY, severity_change="from_change"), now=paris("2026-11-30 14:30")
    )
    assert fresh.state is ClockState.RUNNING and fresh.deadline == paris("2026-11-30 16:00")


def test_an_excluded_interval_does_not_count() -> None:
    exclusion = Exclusion("network_failure", paris("2026-11-30 09:30"), paris("2026-11-30 10:30"))
    ticket = history("2026-11-30 09:00", exclusions=[exclusion])
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 11:00"))
    assert clock.elapsed_seconds == HOUR
    assert any("excluded: network_failure" in why for _, why in clock.not_counted)


def test_a_whole_ticket_exclusion_and_channel_and_enforcement_make_clocks_not_applicable() -> None:
    now = paris("2026-12-01 12:00")
    excluded = history("2026-11-30 09:00", exclusions=[Exclusion("force_majeure")])
    phone = history("2026-11-30 09:00", accepted_channel=False)
    early = history("2026-11-30 09:00")
    late_start = replace(POLICY, enforce_from=paris("2026-12-01 00:00"))
    assert response_clock(excluded, CAL, POLICY, now=now).reason == "excluded (C11)"
    assert "accepted channel" in (response_clock(phone, CAL, POLICY, now=now).reason or "")
    assert (
        response_clock(early, CAL, late_start, now=now).reason == "created before sla.enforce_from"
    )


def test_minor_has_no_clock_unless_an_internal_target_is_set() -> None:
    ticket = history("2026-11-30 09:00", severity=Severity.MINOR)
    assert (
        response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 10:00")).state
        is ClockState.NOT_APPLICABLE
    )
    internal = replace(
        POLICY, response_seconds={**POLICY.response_seconds, Severity.MINOR: 16 * HOUR}
    )
    clock = response_clock(ticket, CAL, internal, now=paris("2026-11-30 10:00"))
    assert clock.state is ClockState.RUNNING and not clock.contractual


def test_not_gtr_eligible_has_no_restoration_clock() -> None:
    ticket = replace(
        history("2026-11-30 09:00"),
        gtr_eligible=False,
        gtr_reasons=["data linked to an external tool (C9)"],
    )
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-11-30 10:00"))
    assert clock.state is ClockState.NOT_APPLICABLE and "external tool" in (clock.reason or "")


def test_a_gap_in_the_history_needs_review() -> None:
    start = paris("2026-11-30 09:00")
    ticket = replace(history("2026-11-30 09:00"), changes=[StatusChange(start, OPEN),
                     StatusChange(paris("2026-11-30 09:40"), OPEN, "gap")])  # fmt: skip
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 10:00"))
    assert clock.needs_review and "pause may be missing" in clock.needs_review[0]


def test_created_at_night_and_on_a_holiday_starts_counting_at_opening() -> None:
    night = history("2026-11-30 23:00")
    assert response_clock(night, CAL, POLICY, now=night.created_at).deadline == paris(
        "2026-12-01 11:00"
    )
    holiday = history("2026-12-25 10:00")
    assert response_clock(holiday, CAL, POLICY, now=holiday.created_at).deadline == paris(
        "2026-12-28 11:00"
    )


def test_answering_as_of_an_earlier_instant_ignores_the_later_stop() -> None:
    ticket = history("2026-11-30 09:00", responded_at=paris("2026-11-30 12:00"))
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 10:00"))
    assert clock.state is ClockState.RUNNING and clock.stopped_at is None


offsets = st.integers(0, 20 * 24 * 60)


@settings(max_examples=150, deadline=None)
@given(offsets, offsets, st.lists(st.tuples(offsets, st.integers(1, 3000)), max_size=3))
def test_elapsed_never_decreases_as_now_advances(
    first: int, step: int, pauses: list[tuple[int, int]]
) -> None:
    ticket = _with_pauses(pauses)
    now = ticket.created_at + timedelta(minutes=first)
    earlier = restoration_clock(ticket, CAL, POLICY, now=now)
    later = restoration_clock(ticket, CAL, POLICY, now=now + timedelta(minutes=step))
    assert later.elapsed_seconds >= earlier.elapsed_seconds


@settings(max_examples=150, deadline=None)
@given(
    offsets,
    st.lists(st.tuples(offsets, st.integers(1, 3000)), max_size=3),
    st.tuples(offsets, st.integers(1, 3000)),
)
def test_adding_a_pause_never_increases_elapsed(
    first: int, pauses: list[tuple[int, int]], extra: tuple[int, int]
) -> None:
    now = paris("2026-11-02 08:00") + timedelta(minutes=first)
    without = restoration_clock(_with_pauses(pauses), CAL, POLICY, now=now)
    with_more = restoration_clock(_with_pauses([*pauses, extra]), CAL, POLICY, now=now)
    assert with_more.elapsed_seconds <= without.elapsed_seconds


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 3 * 24 * 60), st.integers(1, 3 * 24 * 60))
def test_a_deadline_moves_later_by_exactly_the_paused_business_time(
    pause_at: int, length: int
) -> None:
    created = paris("2026-11-02 08:00")
    pause_start = created + timedelta(minutes=pause_at)
    pause_end = pause_start + timedelta(minutes=length)
    now = pause_end + timedelta(minutes=1)
    plain = restoration_clock(_with_pauses([]), CAL, POLICY, now=created)
    paused = restoration_clock(_with_pauses([(pause_at, length)]), CAL, POLICY, now=now)
    if (
        paused.state in (ClockState.RUNNING, ClockState.PAUSED)
        and plain.deadline
        and pause_start < plain.deadline
    ):
        paused_business = CAL.business_seconds(pause_start, min(pause_end, now))
        assert paused.deadline is not None
        assert CAL.business_seconds(plain.deadline, paused.deadline) == paused_business


def _with_pauses(pauses: list[tuple[int, int]]) -> TicketHistory:
    created = paris("2026-11-02 08:00")
    changes = [StatusChange(created, OPEN)]
    cursor = created
    for offset, length in sorted(pauses):
        start = max(cursor, created + timedelta(minutes=offset))
        changes += [
            StatusChange(start, PENDING),
            StatusChange(start + timedelta(minutes=length), OPEN),
        ]
        cursor = start + timedelta(minutes=length)
    return TicketHistory(
        created_at=created,
        changes=changes,
        severities=[(created, Severity.BLOCKING)],
        gtr_eligible=True,
    )


# -- every customer reply counts (SPEC §4) -----------------------------------------------


def test_a_later_reply_never_stretches_an_earlier_pause() -> None:
    """Paused Mon 14:00, customer replies Tue 11:00, agent sets Open Wed 16:00, customer
    writes again Thu 10:00: the pause ended Tue 11:00, whatever the latest reply is."""
    ticket = history(
        "2026-11-30 09:00",
        ("2026-11-30 14:00", PENDING),
        ("2026-12-02 16:00", OPEN),
        customer_replies=[paris("2026-12-01 11:00"), paris("2026-12-03 10:00")],
    )
    now = paris("2026-12-03 12:00")
    clock = restoration_clock(ticket, CAL, POLICY, now=now)
    paused = [interval for interval, why in clock.not_counted if why.startswith("paused")]
    assert paused == [(paris("2026-11-30 14:00"), paris("2026-12-01 11:00"))]
    # Mon 5 h + Tue 7 h + Wed 9 h + Thu 3 h: the pause cost Mon 14:00–18:00 and Tue 09:00–11:00.
    assert clock.elapsed_seconds == (5 + 7 + 9 + 3) * HOUR
    only_latest = replace(ticket, customer_replies=[paris("2026-12-03 10:00")])
    assert restoration_clock(only_latest, CAL, POLICY, now=now).elapsed_seconds < (
        clock.elapsed_seconds
    )


def test_a_reply_before_the_pause_does_not_end_it() -> None:
    ticket = history("2026-11-30 09:00", ("2026-11-30 14:00", PENDING),
                     customer_replies=[paris("2026-11-30 10:00")])  # fmt: skip
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-11-30 16:00"))
    assert clock.state is ClockState.PAUSED and clock.elapsed_seconds == 5 * HOUR


event_minutes = st.integers(0, 12 * 24 * 60)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(event_minutes, st.sampled_from([OPEN, PENDING, RESOLVED])), max_size=6),
    st.lists(event_minutes, max_size=4),
    event_minutes,
    st.tuples(st.integers(1, 12 * 24 * 60), st.sampled_from(["reply", OPEN, PENDING, RESOLVED])),
)
def test_a_later_event_never_changes_a_clocks_past(
    changes: list[tuple[int, Phase]],
    replies: list[int],
    as_of: int,
    later: tuple[int, str],
) -> None:
    """Elapsed time as of any instant depends only on what happened before it."""
    created = paris("2026-11-30 08:30")

    def at(minutes: int) -> datetime:
        return created + timedelta(minutes=minutes)

    base = TicketHistory(
        created_at=created,
        changes=[StatusChange(created, OPEN)]
        + [StatusChange(at(m), status) for m, status in sorted(changes)],
        severities=[(created, Severity.BLOCKING)],
        customer_replies=sorted(at(m) for m in replies),
        gtr_eligible=True,
    )
    now = at(as_of)
    event_at = now + timedelta(minutes=later[0])
    if later[1] == "reply":
        extended = replace(base, customer_replies=sorted([*base.customer_replies, event_at]))
    else:
        status = Phase(later[1])
        if base.changes[-1].at > event_at:
            return  # an event after the last change only
        extended = replace(base, changes=[*base.changes, StatusChange(event_at, status)])
    for clock in (response_clock, restoration_clock):
        before, after = clock(base, CAL, POLICY, now=now), clock(extended, CAL, POLICY, now=now)
        assert after.elapsed_seconds == before.elapsed_seconds
        assert after.state == before.state


# -- strict breach (SPEC §4, worked example 5) ---------------------------------------------

EX5_CREATED = "2026-11-24 16:00"  # 72 business hours end exactly at Fri 4 Dec 17:00


def test_ex5_deadline_at_friday_closing() -> None:
    ticket = history(EX5_CREATED)
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-12-05 12:00"))
    assert_deadline(clock, "2026-12-04 17:00")
    assert clock.state is ClockState.RUNNING and clock.breached_at is None
    assert clock.remaining_seconds == 0


def test_ex5_restored_before_monday_opening_is_met() -> None:
    ticket = history(EX5_CREATED, ("2026-12-07 08:30", RESOLVED))
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-12-07 12:00"))
    assert clock.state is ClockState.MET and clock.breached_at is None
    assert clock.deadline == paris("2026-12-04 17:00") and clock.margin_seconds == 0


def test_ex5_restored_monday_ten_breached_at_nine() -> None:
    ticket = history(EX5_CREATED, ("2026-12-07 10:00", RESOLVED))
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-12-07 12:00"))
    assert clock.state is ClockState.BREACHED_CLOSED
    assert_deadline(clock, "2026-12-04 17:00", breached_at="2026-12-07 09:00")
    running = restoration_clock(history(EX5_CREATED), CAL, POLICY, now=paris("2026-12-07 09:00"))
    assert running.state is ClockState.RUNNING  # exactly 72 h used at 09:00: not past it yet
    assert restoration_clock(history(EX5_CREATED), CAL, POLICY,
                             now=paris("2026-12-07 09:00:01")).state is ClockState.BREACHED  # fmt: skip


def test_a_deadline_inside_opening_hours_is_its_own_breach_instant() -> None:
    ticket = history("2026-11-30 09:00", ("2026-11-30 11:00", RESOLVED))
    answered_on_time = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 12:00"))
    assert answered_on_time.state is ClockState.MET
    late = history("2026-11-30 09:00", ("2026-11-30 11:00:01", RESOLVED))
    clock = response_clock(late, CAL, POLICY, now=paris("2026-11-30 12:00"))
    assert clock.state is ClockState.BREACHED_CLOSED
    assert clock.deadline == clock.breached_at == paris("2026-11-30 11:00")


def test_a_pause_at_the_deadline_delays_the_breach_instant() -> None:
    ticket = history(EX5_CREATED, ("2026-12-07 08:00", PENDING), ("2026-12-07 11:00", OPEN))
    clock = restoration_clock(ticket, CAL, POLICY, now=paris("2026-12-07 12:00"))
    assert clock.breached_at == paris("2026-12-07 11:00") and clock.state is ClockState.BREACHED


def test_a_met_clock_keeps_its_deadline_and_margin() -> None:
    ticket = history("2026-11-30 09:00", ("2026-11-30 10:15", RESOLVED))
    clock = response_clock(ticket, CAL, POLICY, now=paris("2026-11-30 12:00"))
    assert clock.state is ClockState.MET
    assert clock.deadline == paris("2026-11-30 11:00")
    assert clock.margin_seconds == 45 * 60

"""Indemnity maths per SPEC §5: worked example 4, overlap, periods, cap, rounding, properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_tracker.calendar_files import load_calendar_file
from sla_tracker.core.classification import Severity
from sla_tracker.core.clocks import (
    ClockPolicy,
    Phase,
    StatusChange,
    TicketHistory,
    restoration_clock,
)
from sla_tracker.core.indemnity import (
    Basis,
    Breach,
    Contract,
    FeeVersion,
    Overlap,
    indemnities,
    period_start_on,
    periods,
    round_cents,
)
from tests.conftest import ROOT

PARIS = ZoneInfo("Europe/Paris")
CAL = load_calendar_file(ROOT / "calendars" / "fr-support.toml")
ANNUAL = Contract(
    1, "annual", date(2026, 1, 1), (FeeVersion(date(2026, 1, 1), Decimal("6000.00")),)
)
CALENDAR, BUSINESS, UNION, SUM = Basis.CALENDAR, Basis.BUSINESS, Overlap.UNION, Overlap.SUM


def paris(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


def breach(
    start: str, end: str, ticket_id: int = 1, *, restored: bool = True, holes: tuple = ()
) -> Breach:
    return Breach(ticket_id, paris(start), paris(end), restored, holes)


def total(
    contract: Contract, breaches: list[Breach], basis: Basis = CALENDAR, overlap: Overlap = UNION
) -> Decimal:
    return sum(
        (a.amount for a in indemnities(contract, breaches, CAL, basis=basis, overlap=overlap)),
        Decimal(0),
    )


@pytest.mark.parametrize(("basis", "expected"), [(CALENDAR, "34.93"), (BUSINESS, "56.78")])
def test_spec_example_4(basis: Basis, expected: str) -> None:
    ex4 = breach("2026-12-14 12:00", "2026-12-16 15:00")
    [amount] = indemnities(ANNUAL, [ex4], CAL, basis=basis, overlap=UNION)
    assert amount.amount == Decimal(expected)
    assert amount.breach_seconds == (183_600 if basis is CALENDAR else 75_600)
    assert amount.period_seconds == (31_536_000 if basis is CALENDAR else 2219 * 3600)
    assert not amount.provisional and not amount.capped
    assert amount.formula.startswith("6000.00 × ")


def test_overlapping_breaches_count_once_under_union_and_twice_under_sum() -> None:
    both = [
        breach("2026-06-01 10:00", "2026-06-02 10:00", 1),
        breach("2026-06-01 22:00", "2026-06-02 10:00", 2),
    ]
    [union] = indemnities(ANNUAL, both, CAL, basis=CALENDAR, overlap=UNION)
    [summed] = indemnities(ANNUAL, both, CAL, basis=CALENDAR, overlap=SUM)
    assert union.breach_seconds == 86_400 and summed.breach_seconds == 86_400 + 43_200
    assert sum(share.share for share in union.tickets) == union.exact  # shares add up
    assert [share.seconds for share in union.tickets] == [Decimal(43_200 + 21_600), Decimal(21_600)]


def test_a_breach_across_a_renewal_uses_each_periods_fee() -> None:
    contract = Contract(1, "annual", date(2026, 1, 1), (
        FeeVersion(date(2026, 1, 1), Decimal("6000.00")), FeeVersion(date(2027, 1, 1), Decimal("12000.00"))))  # fmt: skip
    first, second = indemnities(contract, [breach("2026-12-31 12:00", "2027-01-01 12:00")], CAL,
                                basis=CALENDAR, overlap=UNION)  # fmt: skip
    assert (first.period.fee, first.breach_seconds, first.amount) == (
        Decimal("6000.00"),
        43_200,
        Decimal("8.22"),
    )
    assert (second.period.fee, second.breach_seconds, second.amount) == (
        Decimal("12000.00"),
        43_200,
        Decimal("16.44"),
    )


def test_the_total_is_capped_at_the_period_fee() -> None:
    monthly = Contract(
        1, "monthly", date(2026, 1, 1), (FeeVersion(date(2026, 1, 1), Decimal("500.00")),)
    )
    # Two tickets overrunning the whole of January, added up ("sum"): twice the month.
    both = [
        breach("2025-12-20 00:00", "2026-02-01 00:00", 1),
        breach("2026-01-01 00:00", "2026-02-01 00:00", 2),
    ]
    [january] = indemnities(monthly, both, CAL, basis=CALENDAR, overlap=SUM)
    assert january.exact == Decimal(1000)
    assert january.capped and january.amount == Decimal("500.00")
    assert "capped at the period fee 500.00 (C12)" in january.formula


def test_monthly_periods_have_their_own_length() -> None:
    monthly = Contract(
        1, "monthly", date(2026, 1, 1), (FeeVersion(date(2026, 1, 1), Decimal("500.00")),)
    )
    [february] = indemnities(monthly, [breach("2026-02-10 00:00", "2026-02-11 00:00")], CAL,
                             basis=CALENDAR, overlap=UNION)  # fmt: skip
    assert february.period_seconds == 28 * 86_400
    assert february.amount == round_cents(Decimal(500) / 28)


def test_a_leap_year_has_366_days() -> None:
    leap = Contract(
        1, "annual", date(2028, 1, 1), (FeeVersion(date(2028, 1, 1), Decimal("6000.00")),)
    )
    [amount] = indemnities(
        leap, [breach("2028-03-01 00:00", "2028-03-02 00:00")], CAL, basis=CALENDAR, overlap=UNION
    )
    assert amount.period_seconds == 366 * 86_400 and amount.amount == Decimal("16.39")


def test_a_start_on_the_31st_falls_on_the_last_day_of_shorter_months() -> None:
    assert [period_start_on(date(2026, 1, 31), months) for months in range(4)] == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]  # fmt: skip


def test_without_tacit_renewal_there_is_one_period_and_termination_ends_them() -> None:
    once = Contract(1, "annual", date(2026, 1, 1), ANNUAL.fees, tacit_renewal=False)
    assert len(periods(once, PARIS, paris("2026-01-01 00:00"), paris("2030-01-01 00:00"))) == 1
    ended = Contract(1, "annual", date(2026, 1, 1), ANNUAL.fees, terminated_on=date(2028, 1, 1))
    assert len(periods(ended, PARIS, paris("2026-01-01 00:00"), paris("2030-01-01 00:00"))) == 2


def test_pauses_and_exclusions_inside_the_overrun_do_not_count() -> None:
    hole = (paris("2026-06-01 12:00"), paris("2026-06-01 18:00"))
    [amount] = indemnities(ANNUAL, [breach("2026-06-01 10:00", "2026-06-02 10:00", holes=(hole,))], CAL,
                           basis=CALENDAR, overlap=UNION)  # fmt: skip
    assert amount.breach_seconds == 86_400 - 6 * 3600


def test_an_unrestored_ticket_makes_the_amount_provisional() -> None:
    [amount] = indemnities(ANNUAL, [breach("2026-06-01 10:00", "2026-06-02 10:00", restored=False)], CAL,
                           basis=CALENDAR, overlap=UNION)  # fmt: skip
    assert amount.provisional


instants = st.integers(0, 300 * 24 * 60).map(
    lambda minutes: paris("2026-01-05 00:00") + timedelta(minutes=minutes)
)
lengths = st.integers(1, 90 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))
spans = st.lists(st.tuples(instants, lengths), min_size=1, max_size=4)


def _breaches(items: list[tuple[datetime, timedelta]]) -> list[Breach]:
    return [
        Breach(i, start, start + length, True) for i, (start, length) in enumerate(items, start=1)
    ]


@settings(max_examples=150, deadline=None)
@given(instants, lengths, lengths, st.sampled_from([CALENDAR, BUSINESS]))
def test_the_amount_grows_with_the_restoration_time(
    start: datetime, length: timedelta, more: timedelta, basis: Basis
) -> None:
    shorter = total(ANNUAL, [Breach(1, start, start + length, True)], basis)
    longer = total(ANNUAL, [Breach(1, start, start + length + more, True)], basis)
    assert shorter <= longer


@settings(max_examples=150, deadline=None)
@given(spans, st.sampled_from([CALENDAR, BUSINESS]), st.sampled_from([UNION, SUM]))
def test_never_above_the_period_fee(
    items: list[tuple[datetime, timedelta]], basis: Basis, overlap: Overlap
) -> None:
    for amount in indemnities(ANNUAL, _breaches(items), CAL, basis=basis, overlap=overlap):
        assert amount.amount <= amount.period.fee


@settings(max_examples=150, deadline=None)
@given(spans, st.sampled_from([CALENDAR, BUSINESS]))
def test_union_never_exceeds_sum(items: list[tuple[datetime, timedelta]], basis: Basis) -> None:
    assert total(ANNUAL, _breaches(items), basis, UNION) <= total(
        ANNUAL, _breaches(items), basis, SUM
    )


@settings(max_examples=150, deadline=None)
@given(instants, lengths, st.floats(0.01, 0.99), st.sampled_from([CALENDAR, BUSINESS]))
def test_splitting_a_breach_does_not_change_the_exact_total(
    start: datetime, length: timedelta, cut: float, basis: Basis
) -> None:
    end = start + length
    middle = (start + length * cut).replace(second=0, microsecond=0)
    if not start < middle < end:
        return
    whole = indemnities(ANNUAL, [Breach(1, start, end, True)], CAL, basis=basis, overlap=UNION)
    parts = indemnities(ANNUAL, [Breach(1, start, middle, True), Breach(2, middle, end, True)], CAL,
                        basis=basis, overlap=UNION)  # fmt: skip
    assert sum(a.exact for a in whole) == sum(a.exact for a in parts)


# -- SPEC example 5: the overrun starts at the 73rd business hour ---------------------------


@pytest.mark.parametrize(("basis", "expected"), [(CALENDAR, "0.68"), (BUSINESS, "2.70")])
def test_spec_example_5_friday_closing_deadline(basis: Basis, expected: str) -> None:
    """Deadline Fri 4 Dec 17:00, restored Mon 7 Dec 10:00: one hour is owed, not a weekend."""
    created = paris("2026-11-24 16:00")
    history = TicketHistory(
        created_at=created,
        changes=[
            StatusChange(created, Phase.OPEN),
            StatusChange(paris("2026-12-07 10:00"), Phase.RESTORED),
        ],
        severities=[(created, Severity.BLOCKING)],
        gtr_eligible=True,
    )
    policy = ClockPolicy(response_seconds={})
    clock = restoration_clock(history, CAL, policy, now=paris("2026-12-08 12:00"))
    assert clock.deadline == paris("2026-12-04 17:00")
    assert clock.breached_at == paris("2026-12-07 09:00")
    assert clock.stopped_at is not None and clock.breached_at is not None
    overrun = Breach(1, clock.breached_at, clock.stopped_at, restored=True)
    [amount] = indemnities(ANNUAL, [overrun], CAL, basis=basis, overlap=UNION)
    assert amount.breach_seconds == 3_600
    assert amount.amount == Decimal(expected)  # 6000 × 3600 / 31,536,000 or / (2219 × 3600)


# -- a period's length is elapsed time (SPEC §5) ---------------------------------------------


def test_a_month_with_the_autumn_dst_change_is_one_hour_longer() -> None:
    monthly = Contract(
        1, "monthly", date(2026, 10, 1), (FeeVersion(date(2026, 10, 1), Decimal("300")),)
    )
    [october] = indemnities(monthly, [breach("2026-10-10 00:00", "2026-10-11 00:00")], CAL,
                            basis=CALENDAR, overlap=UNION)  # fmt: skip
    assert october.period_seconds == 31 * 86_400 + 3_600
    [march] = periods(
        replace_start(monthly, date(2026, 3, 1)),
        PARIS,
        paris("2026-03-05 00:00"),
        paris("2026-03-06 00:00"),
    )
    assert round(march.end.timestamp() - march.start.timestamp()) == 31 * 86_400 - 3_600


def replace_start(contract: Contract, start: date) -> Contract:
    return Contract(
        contract.company_id, contract.period, start, (FeeVersion(start, contract.fees[0].fee),)
    )


period_kinds = st.sampled_from(["monthly", "annual", "two_years"])
start_days = st.dates(date(2024, 1, 1), date(2028, 12, 31))


@settings(max_examples=120, deadline=None)
@given(period_kinds, start_days, st.integers(0, 12), st.sampled_from([CALENDAR, BUSINESS]))
def test_a_breach_covering_a_whole_period_is_worth_exactly_its_fee(
    kind: str, start: date, index: int, basis: Basis
) -> None:
    contract = Contract(1, kind, start, (FeeVersion(start, Decimal("1234.56")),))
    horizon = datetime(2031, 1, 1, tzinfo=PARIS)
    found = periods(
        contract, PARIS, datetime(start.year, start.month, start.day, tzinfo=PARIS), horizon
    )
    period = found[min(index, len(found) - 1)]
    covering = Breach(1, period.start - timedelta(hours=5), period.end + timedelta(hours=5), True)
    amounts = {
        a.period.index: a
        for a in indemnities(contract, [covering], CAL, basis=basis, overlap=UNION)
    }
    whole = amounts[period.index]
    assert whole.exact == whole.period.fee and whole.amount == Decimal("1234.56")
    assert not whole.capped


@settings(max_examples=120, deadline=None)
@given(period_kinds, start_days)
def test_consecutive_periods_tile_time(kind: str, start: date) -> None:
    contract = Contract(1, kind, start, (FeeVersion(start, Decimal("100")),))
    first = datetime(start.year, start.month, start.day, tzinfo=PARIS)
    found = periods(contract, PARIS, first, datetime(2031, 1, 1, tzinfo=PARIS))
    months = {"monthly": 1, "annual": 12, "two_years": 24}[kind]
    for number, period in enumerate(found):
        local = period.start.astimezone(PARIS)
        assert local.date() == period_start_on(start, months * number)  # 29th–31st clamp
        assert local.time().hour == 0 and local.time().minute == 0  # local midnight
    for earlier, later in pairwise(found):
        assert earlier.end.timestamp() == later.start.timestamp()  # no gap, no overlap

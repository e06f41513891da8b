"""Pro-rata indemnities for missed restoration guarantees (SPEC.md §5; clauses C10, C12, C13).

For a GTR-eligible ticket whose restoration clock passed 72 business hours, the customer may
claim ``fee × overrun / period length`` for the time from the start of the 73rd business hour
(the clock's ``breached_at``) to restoration. Money is ``Decimal`` throughout and rounded
once, half-up, to the cent, per customer and subscription period; every amount keeps the
figures it was derived from.
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import pairwise
from typing import TYPE_CHECKING

from sla_tracker.core.intervals import Interval, subtract

if TYPE_CHECKING:
    from collections.abc import Sequence
    from zoneinfo import ZoneInfo

    from sla_tracker.core.calendar import BusinessCalendar

CENT = Decimal("0.01")
MONTHS = {"monthly": 1, "annual": 12, "two_years": 24}


class Basis(StrEnum):
    CALENDAR = "calendar"  # wall-clock overrun over the period's wall-clock length
    BUSINESS = "business"  # business seconds over the period's business seconds


class Overlap(StrEnum):
    UNION = "union"  # one subscription: simultaneous breaches count once
    SUM = "sum"  # each ticket counts on its own


def round_cents(amount: Decimal) -> Decimal:
    """The one rounding of SPEC §5: half-up, to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class FeeVersion:
    effective_on: date  # a renewal date (or the start)
    fee: Decimal


@dataclass(frozen=True)
class Contract:
    """C13: a customer's subscription; fee changes take effect at a renewal."""

    company_id: int
    period: str  # monthly | annual | two_years
    start_on: date
    fees: tuple[FeeVersion, ...]
    currency: str = "EUR"
    tacit_renewal: bool = True
    terminated_on: date | None = None

    def fee_on(self, period_start: date) -> Decimal:
        applicable = [v for v in self.fees if v.effective_on <= period_start]
        return (applicable or sorted(self.fees, key=lambda v: v.effective_on))[-1].fee


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime
    end: datetime
    fee: Decimal
    index: int

    @property
    def label(self) -> str:
        return f"{self.start.date().isoformat()}/{self.end.date().isoformat()}"


def period_start_on(start_on: date, months: int) -> date:
    """``start_on`` moved by ``months``; a start on the 29th–31st falls on the last day of
    shorter months (SPEC §5)."""
    month_index = start_on.month - 1 + months
    year, month = start_on.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start_on.day, month_calendar.monthrange(year, month)[1]))


def periods(contract: Contract, zone: ZoneInfo, start: datetime, end: datetime) -> list[Period]:
    """The subscription periods overlapping ``[start, end)``, each with its fee.

    Periods begin at 00:00 in the calendar's zone on the start date and its anniversaries.
    Without tacit renewal there is only the first period; none begins on or after the
    termination date.
    """
    step = MONTHS[contract.period]
    found: list[Period] = []
    index = 0
    while True:
        first_day = period_start_on(contract.start_on, step * index)
        if index and not contract.tacit_renewal:
            break
        if contract.terminated_on and first_day >= contract.terminated_on:
            break
        period_start = _midnight(first_day, zone)
        if period_start >= end:
            break
        period_end = _midnight(period_start_on(contract.start_on, step * (index + 1)), zone)
        if period_end > start:
            found.append(Period(period_start, period_end, contract.fee_on(first_day), index))
        index += 1
    return found


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


@dataclass(frozen=True, slots=True)
class Breach:
    """One ticket's overrun: from the 73rd business hour's start to restoration (or now)."""

    ticket_id: int
    start: datetime
    end: datetime
    restored: bool
    not_counted: tuple[Interval, ...] = ()  # pauses and exclusions inside the overrun (C11)

    def counted(self) -> list[Interval]:
        return subtract([(self.start, self.end)], self.not_counted)


@dataclass(frozen=True, slots=True)
class TicketShare:
    ticket_id: int
    breach_start: datetime
    breach_end: datetime
    seconds: Decimal  # this ticket's part of the period's counted overrun
    share: Decimal  # unrounded: shares are shown, the rounded total is authoritative


@dataclass(frozen=True)
class PeriodAmount:
    """A customer's indemnity for one subscription period, with its derivation."""

    company_id: int
    period: Period
    currency: str
    basis: Basis
    overlap: Overlap
    breach_seconds: int  # counted overrun in the period (summed per ticket under "sum")
    period_seconds: int  # the period's length on the basis
    exact: Decimal  # fee × breach_seconds / period_seconds, before the cap and rounding
    amount: Decimal  # capped, rounded once
    capped: bool
    provisional: bool  # some ticket is still unrestored
    tickets: tuple[TicketShare, ...]

    @property
    def formula(self) -> str:
        return (
            f"{self.period.fee} × {self.breach_seconds} / {self.period_seconds} = "
            f"{self.exact.quantize(Decimal('0.0001'))}"
            + (f", capped at the period fee {self.period.fee} (C12)" if self.capped else "")
        )


def indemnities(
    contract: Contract,
    breaches: Sequence[Breach],
    calendar: BusinessCalendar,
    *,
    basis: Basis,
    overlap: Overlap,
) -> list[PeriodAmount]:
    """SPEC §5 for one customer: split at period boundaries, union or sum, cap, round once."""
    spans = [(breach, interval) for breach in breaches for interval in breach.counted()]
    if not spans:
        return []
    start = min(interval[0] for _, interval in spans)
    end = max(interval[1] for _, interval in spans)
    amounts = []
    for period in periods(contract, calendar.zone, start, end):
        shares, total = _period_shares(spans, period, calendar, basis=basis, overlap=overlap)
        if not shares:
            continue
        length = _length(period.start, period.end, calendar, basis)
        exact = period.fee * total / length
        capped = exact > period.fee
        amounts.append(
            PeriodAmount(
                company_id=contract.company_id,
                period=period,
                currency=contract.currency,
                basis=basis,
                overlap=overlap,
                breach_seconds=int(total),
                period_seconds=length,
                exact=exact,
                amount=round_cents(min(exact, period.fee)),
                capped=capped,
                provisional=any(
                    not b.restored
                    for b in breaches
                    if any(s.ticket_id == b.ticket_id for s in shares)
                ),
                tickets=tuple(
                    TicketShare(
                        s.ticket_id,
                        s.breach_start,
                        s.breach_end,
                        s.seconds,
                        period.fee * s.seconds / length,
                    )
                    for s in shares
                ),
            )
        )
    return amounts


def _period_shares(
    spans: list[tuple[Breach, Interval]],
    period: Period,
    calendar: BusinessCalendar,
    *,
    basis: Basis,
    overlap: Overlap,
) -> tuple[list[TicketShare], Decimal]:
    """Each ticket's counted seconds in the period, and the period's total.

    Under "union", time when several tickets overrun together counts once and is shared
    equally between them, so that the shares add up to the total.
    """
    clipped = [
        (breach, (max(a, period.start), min(b, period.end)))
        for breach, (a, b) in spans
        if a < period.end and b > period.start
    ]
    boundaries = sorted({instant for _, interval in clipped for instant in interval})
    seconds: dict[int, Decimal] = {}
    total = Decimal(0)
    for left, right in pairwise(boundaries):
        active = {breach.ticket_id for breach, (a, b) in clipped if a <= left and right <= b}
        if not active:
            continue
        measured = Decimal(_length(left, right, calendar, basis))
        weight = measured / len(active) if overlap is Overlap.UNION else measured
        total += measured if overlap is Overlap.UNION else measured * len(active)
        for ticket_id in active:
            seconds[ticket_id] = seconds.get(ticket_id, Decimal(0)) + weight
    breach_of = {breach.ticket_id: breach for breach, _ in clipped}
    shares = [
        TicketShare(
            ticket_id, breach_of[ticket_id].start, breach_of[ticket_id].end, counted, Decimal(0)
        )
        for ticket_id, counted in sorted(seconds.items())
        if counted > 0
    ]
    return shares, total


def _length(start: datetime, end: datetime, calendar: BusinessCalendar, basis: Basis) -> int:
    """Elapsed seconds (or business seconds) between two instants.

    Calendar basis subtracts epoch instants: two datetimes sharing one ``ZoneInfo`` would
    subtract wall times, and a month holding a DST change would lose or gain an hour
    against the overrun, which is measured in real seconds (SPEC §5).
    """
    if basis is Basis.BUSINESS:
        return calendar.business_seconds(start, end)
    return round(end.timestamp() - start.timestamp())

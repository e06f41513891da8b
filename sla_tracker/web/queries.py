"""Every read of judged tickets the web makes, in one place.

Listings come from the kept judgments (``judgments.Judgments``: filtered in SQL, most
urgent first, stale tickets judged from history and merged in); one ticket's page and
``as_of`` answers are judged from history, as the CLI's ``ticket`` and ``--as-of`` are.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sla_tracker.judge import evaluate_tickets
from sla_tracker.judgments import Judgments, listing_order, matches
from sla_tracker.money import customer_periods, default_horizon, exposure, load_contracts
from sla_tracker.storage.judgments import Filters

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.core.indemnity import Contract
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.money import CustomerPeriod, Exposure
    from sla_tracker.storage.engine import Engine

BOARD_ROWS = 100  # a wall screen shows a few dozen; the rest is a count


@dataclass(frozen=True)
class Reader:
    """What every read needs: the store, the settings and the calendar they are judged with."""

    engine: Engine
    settings: Settings
    calendar: BusinessCalendar

    def judgments(self, now: datetime) -> Judgments:
        return Judgments(self.engine, self.settings, self.calendar, now)

    def ticket(self, ticket_id: int, *, now: datetime) -> JudgedTicket | None:
        """One ticket with its transitions and evidence, judged from its history."""
        found = evaluate_tickets(self.engine, self.settings, self.calendar, now=now,
                                 ticket_ids=[ticket_id], with_transitions=True)  # fmt: skip
        return found[0] if found else None

    def tickets(
        self, *, now: datetime, filters: Filters, needs_review: bool = False, as_of: bool = False
    ) -> Iterator[JudgedTicket]:
        """``sla-tracker tickets``: kept judgments, or every ticket's history ``as_of``."""
        judgments = self.judgments(now)
        if as_of:
            found: Iterator[JudgedTicket] = iter(sorted(
                (r for r in judgments.from_history() if matches(r, filters, judgments)),
                key=listing_order,
            ))  # fmt: skip
        else:
            found = judgments.tickets(filters)
        return (report for report in found if not needs_review or report.needs_review)

    def board(self, *, now: datetime, only: Filters) -> Board:
        """Open tickets at risk or breached, most urgent first: the first ``BOARD_ROWS`` and
        how many there are (both from SQL on the kept judgments: only the rows shown are
        advanced to ``now``)."""
        judgments = self.judgments(now)
        urgent = replace(only, only_open=True, urgent=True)
        rows = list(judgments.tickets(urgent, limit=BOARD_ROWS))
        return Board(rows, judgments.count(urgent))

    def customers(self, *, now: datetime, until: datetime | None = None) -> Customers:
        """Contracts, indemnities per period (the GTR-breached tickets, judged from history
        as ``indemnities`` does) and the money at risk until ``until``."""
        judgments = self.judgments(now)
        breached = [r.id for r in judgments.tickets(Filters(gtr_breached=True))]
        reports = evaluate_tickets(self.engine, self.settings, self.calendar, now=now,
                                   ticket_ids=breached) if breached else []  # fmt: skip
        horizon = until or default_horizon(now)
        return Customers(
            contracts=list(load_contracts(self.engine).values()),
            periods=customer_periods(self.engine, self.settings, self.calendar,
                                     [r for r in reports if r.listed], now=now),
            exposure=self.exposure(now=now, until=horizon),
            horizon=horizon,
        )  # fmt: skip

    def exposure(self, *, now: datetime, until: datetime) -> list[Exposure]:
        """``exposure``: open blocking tickets, the only ones whose GTR clock can still run."""
        candidates = list(self.judgments(now).tickets(Filters(only_open=True, severity="blocking")))
        return exposure(self.engine, self.settings, self.calendar, candidates, now=now, until=until)


@dataclass(frozen=True)
class Board:
    rows: list[JudgedTicket]  # the first BOARD_ROWS
    total: int


@dataclass(frozen=True)
class Customers:
    contracts: list[Contract]
    periods: list[CustomerPeriod]
    exposure: list[Exposure]
    horizon: datetime


def in_window(line: CustomerPeriod, window: tuple[datetime, datetime] | None) -> bool:
    """``--period``'s rule: a subscription period overlapping the window (a line without a
    contract always shows, so that a missing contract is seen)."""
    amount = line.amount
    return (
        window is None
        or amount is None
        or (amount.period.start < window[1] and amount.period.end > window[0])
    )

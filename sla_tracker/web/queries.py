"""Every read of judged tickets the web makes, in one place.

Listings come from the kept judgments (``judgments.Judgments``: filtered in SQL, most
urgent first, stale tickets judged from history and merged in); one ticket's page and
``as_of`` answers are judged from history, as the CLI's ``ticket`` and ``--as-of`` are.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field, replace
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

BOARD_ROWS = 200  # a wall screen shows a few dozen; the rest is a count


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
        """Open tickets at risk or breached, most urgent first, and what they can be filtered
        by (the choices come from every urgent ticket, whatever the filters)."""
        judgments = self.judgments(now)
        urgent = Filters(only_open=True)
        risky = judgments.tickets(replace(urgent, at_risk=True))
        late = judgments.tickets(replace(urgent, breached=True))
        seen: set[int] = set()
        rows: list[JudgedTicket] = []
        total = 0
        companies: dict[int, str] = {}
        groups: set[int] = set()
        agents: set[int] = set()
        for report in heapq.merge(late, risky, key=listing_order):
            if report.id in seen:  # at risk on one clock, breached on the other
                continue
            seen.add(report.id)
            if report.company_id is not None:
                companies[report.company_id] = report.company_name or str(report.company_id)
            groups.update([report.group_id] if report.group_id is not None else [])
            agents.update([report.responder_id] if report.responder_id is not None else [])
            if matches(report, only, judgments):
                total += 1
                if len(rows) < BOARD_ROWS:
                    rows.append(report)
        return Board(rows, total, sorted(companies.items(), key=lambda item: item[1]),
                     sorted(groups), sorted(agents))  # fmt: skip

    def customers(self, *, now: datetime, until: datetime | None = None) -> Customers:
        """Contracts, indemnities per period (the GTR-breached tickets, judged from history
        as ``indemnities`` does) and the money at risk until ``until`` (open blocking
        tickets, the only ones whose GTR clock can still run, as ``exposure`` does)."""
        judgments = self.judgments(now)
        breached = [r.id for r in judgments.tickets(Filters(gtr_breached=True))]
        reports = evaluate_tickets(self.engine, self.settings, self.calendar, now=now,
                                   ticket_ids=breached) if breached else []  # fmt: skip
        candidates = list(judgments.tickets(Filters(only_open=True, severity="blocking")))
        horizon = until or default_horizon(now)
        return Customers(
            contracts=list(load_contracts(self.engine).values()),
            periods=customer_periods(self.engine, self.settings, self.calendar,
                                     [r for r in reports if r.listed], now=now),
            exposure=exposure(self.engine, self.settings, self.calendar, candidates,
                              now=now, until=horizon),
            horizon=horizon,
        )  # fmt: skip


@dataclass(frozen=True)
class Board:
    rows: list[JudgedTicket]  # the first BOARD_ROWS
    total: int
    companies: list[tuple[int, str]] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    agents: list[int] = field(default_factory=list)


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

"""Every read of judged tickets the web makes, in one place.

Until the kept judgments of issue 12 land, tickets are judged from history on each read
(``judge.evaluate_tickets``); switching the board to the kept judgments is a change to
``judged`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sla_tracker.judge import evaluate_tickets
from sla_tracker.money import customer_periods, default_horizon, exposure, load_contracts
from sla_tracker.present.tickets import urgency
from sla_tracker.storage.web import assignments

if TYPE_CHECKING:
    from datetime import datetime

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.core.indemnity import Contract
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.money import CustomerPeriod, Exposure
    from sla_tracker.storage.engine import Engine


@dataclass(frozen=True)
class Reader:
    """What every read needs: the store, the settings and the calendar they are judged with."""

    engine: Engine
    settings: Settings
    calendar: BusinessCalendar

    def judged(
        self, *, now: datetime, ticket_ids: list[int] | None = None, detail: bool = False
    ) -> list[JudgedTicket]:
        """The one call to the clock engine: tickets as judged at ``now``, in id order."""
        return evaluate_tickets(
            self.engine, self.settings, self.calendar, now=now,
            ticket_ids=ticket_ids, with_transitions=detail,
        )  # fmt: skip

    def ticket(self, ticket_id: int, *, now: datetime) -> JudgedTicket | None:
        found = self.judged(now=now, ticket_ids=[ticket_id], detail=True)
        return found[0] if found else None

    @property
    def threshold(self) -> float:
        """SPEC §4: the first alert threshold is where a running clock is at risk."""
        return min(self.settings.alerts.thresholds, default=100) / 100

    def tickets(self, *, now: datetime, only: TicketFilter) -> list[JudgedTicket]:
        """``sla-tracker tickets`` with its filters: the most urgent first."""
        chosen = [report for report in self.judged(now=now) if only.keeps(report, self.threshold)]
        return sorted(chosen, key=urgency)

    def board(self, *, now: datetime, only: BoardFilter) -> Board:
        """Open tickets at risk or breached, most urgent first, and what they can be filtered by."""
        urgent = TicketFilter(only_open=True, at_risk_or_breached=True)
        reports = self.tickets(now=now, only=urgent)
        placed = assignments(self.engine, [report.id for report in reports])
        rows = [BoardRow(report, *placed.get(report.id, (None, None))) for report in reports]
        return Board(
            rows=[row for row in rows if only.keeps(row)],
            companies=sorted({(r.report.company_id, r.report.company_name or "") for r in rows
                              if r.report.company_id is not None}, key=lambda c: c[1]),
            groups=sorted({row.group_id for row in rows if row.group_id is not None}),
            agents=sorted({row.agent_id for row in rows if row.agent_id is not None}),
        )  # fmt: skip

    def customers(
        self,
        *,
        now: datetime,
        until: datetime | None = None,
        reports: list[JudgedTicket] | None = None,
    ) -> Customers:
        """Contracts, indemnities per period and the money at risk until ``until``
        (``reports``: the tickets judged at ``now``, when the caller has them already)."""
        reports = self.judged(now=now) if reports is None else reports
        horizon = until or default_horizon(now)
        return Customers(
            contracts=list(load_contracts(self.engine).values()),
            periods=customer_periods(self.engine, self.settings, self.calendar, reports, now=now),
            exposure=exposure(self.engine, self.settings, self.calendar, reports,
                              now=now, until=horizon),
            horizon=horizon,
        )  # fmt: skip


@dataclass(frozen=True)
class TicketFilter:
    """The filters of ``sla-tracker tickets``."""

    only_open: bool = False
    severity: str | None = None
    company_id: int | None = None
    at_risk: bool = False
    breached: bool = False
    needs_review: bool = False
    at_risk_or_breached: bool = False

    def keeps(self, report: JudgedTicket, threshold: float) -> bool:
        clocks = (report.response, report.restoration)
        risky = any(clock.at_risk(threshold) for clock in clocks)
        breached = any(clock.breached for clock in clocks)
        return (
            (not self.only_open or report.open)
            and (self.severity is None or report.classification.severity.value == self.severity)
            and (self.company_id is None or report.company_id == self.company_id)
            and (not self.at_risk or risky)
            and (not self.breached or breached)
            and (not self.needs_review or bool(report.needs_review))
            and (not self.at_risk_or_breached or risky or breached)
        )


@dataclass(frozen=True)
class BoardRow:
    report: JudgedTicket
    group_id: int | None
    agent_id: int | None


@dataclass(frozen=True)
class BoardFilter:
    """The board's own filters, beside the listing's: severity, company, group, agent."""

    severity: str | None = None
    company_id: int | None = None
    group_id: int | None = None
    agent_id: int | None = None

    def keeps(self, row: BoardRow) -> bool:
        report = row.report
        return (
            (self.severity is None or report.classification.severity.value == self.severity)
            and (self.company_id is None or report.company_id == self.company_id)
            and (self.group_id is None or row.group_id == self.group_id)
            and (self.agent_id is None or row.agent_id == self.agent_id)
        )


@dataclass(frozen=True)
class Board:
    rows: list[BoardRow]
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

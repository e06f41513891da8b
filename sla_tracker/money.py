"""Contracts, indemnities per customer and period, period close, exposure (SPEC.md §5).

Store ↔ core: contracts are versioned rows (a fee change takes effect at a renewal, never
overwriting the past); breaches come from the restoration clocks; amounts come from
``core/indemnity.py``. A closed period keeps its frozen amount: a later change that would
alter it is shown as an adjustment carried to the next open period.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sla_tracker.config import not_utf8
from sla_tracker.core.calendar import FIRST_YEAR, LAST_YEAR
from sla_tracker.core.clocks import ClockState
from sla_tracker.core.indemnity import (
    MONTHS,
    Breach,
    Contract,
    FeeVersion,
    PeriodAmount,
    indemnities,
    period_start_on,
)
from sla_tracker.policies import indemnity_options
from sla_tracker.storage.contracts import (
    add_closed_periods,
    add_contract_versions,
    closed_periods,
    contract_versions,
)
from sla_tracker.storage.tables import BIGINT

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.storage.engine import Engine

BREACHED = (ClockState.BREACHED, ClockState.BREACHED_CLOSED)
CSV_COLUMNS = (
    "company_id",
    "fee",
    "period",
    "start",
    "effective",
    "currency",
    "tacit_renewal",
    "terminated",
)
MAX_FEE = Decimal("999999999999.99")  # Decimal keeps 28 digits: every amount stays exact


class ContractError(Exception):
    """Contract terms that cannot be recorded; the message says which and why."""


@dataclass(frozen=True)
class ContractTerms:
    company_id: int
    fee: Decimal
    period: str
    start_on: date
    effective_on: date | None = None
    currency: str = "EUR"
    tacit_renewal: bool = True
    terminated_on: date | None = None


def record_contract(engine: Engine, terms: ContractTerms, *, by: str, now: datetime) -> None:
    """Append a contract version after checking it against the versions already recorded."""
    existing = load_contracts(engine).get(terms.company_id)
    add_contract_versions(engine, [_version_row(terms, existing, by, now)])


def import_contracts(engine: Engine, path: Path, *, by: str, now: datetime) -> int:
    """Import ``CSV_COLUMNS`` rows all or nothing; an error names the line and the column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ContractError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ContractError(f"{path}: {not_utf8(error)}") from None
    try:
        return _import_rows(engine, path, csv.DictReader(text.splitlines()), by=by, now=now)
    except csv.Error as error:
        raise ContractError(f"{path}: not a readable CSV ({error}); nothing was imported") from None


def _import_rows(
    engine: Engine, path: Path, reader: csv.DictReader[str], *, by: str, now: datetime
) -> int:
    columns = reader.fieldnames or []
    missing = [name for name in ("company_id", "fee", "period", "start") if name not in columns]
    if missing:
        raise ContractError(
            f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(CSV_COLUMNS)}"
        )
    contracts = load_contracts(engine)
    rows = []
    for line, record in enumerate(reader, start=2):
        try:
            if None in record:  # DictReader's key for the cells beyond the header's
                raise ContractError(f"more cells than the {len(columns)} columns of the header")
            terms = _terms_from_csv(record)
            rows.append(_version_row(terms, contracts.get(terms.company_id), by, now))
            contracts[terms.company_id] = _as_contract(
                [*_versions_of(contracts.get(terms.company_id)), rows[-1]]
            )
        except ContractError as error:
            raise ContractError(f"{path}, line {line}: {error}; nothing was imported") from None
    add_contract_versions(engine, rows)
    return len(rows)


def _terms_from_csv(record: dict[str, str]) -> ContractTerms:
    def cell(name: str) -> str:
        return (record.get(name) or "").strip()

    try:
        company_id = int(cell("company_id"))
    except ValueError:
        raise ContractError(f"company_id {cell('company_id')!r} is not a number") from None
    if not 0 < company_id < BIGINT:
        raise ContractError(f"company_id {company_id} is not a Freshdesk id (1 to {BIGINT - 1})")
    return ContractTerms(
        company_id=company_id,
        fee=parse_fee(cell("fee")),
        period=cell("period"),
        start_on=_date(cell("start"), "start"),
        effective_on=_date(cell("effective"), "effective") if cell("effective") else None,
        currency=cell("currency") or "EUR",
        tacit_renewal=cell("tacit_renewal").lower() not in ("false", "no", "0", "non"),
        terminated_on=_date(cell("terminated"), "terminated") if cell("terminated") else None,
    )


def parse_fee(text: str) -> Decimal:
    try:
        fee = Decimal(text.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        fee = Decimal("NaN")
    if not fee.is_finite():  # NaN, sNaN and Infinity are Decimals too
        raise ContractError(f"fee {text!r} is not an amount (e.g. 6000 or 6000.00)")
    if not 0 < fee <= MAX_FEE or fee != fee.quantize(Decimal("0.01")):
        raise ContractError(f"fee {text!r} must be positive, at most {MAX_FEE}, in cents at most")
    return fee


def _date(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ContractError(f"{column} {text!r} is not a date (YYYY-MM-DD)") from None


def _version_row(
    terms: ContractTerms, existing: Contract | None, by: str, now: datetime
) -> dict[str, Any]:
    if terms.period not in MONTHS:
        raise ContractError(f"period {terms.period!r} is not one of {', '.join(MONTHS)}")
    for name, day in (
        ("start", terms.start_on), ("effective", terms.effective_on),
        ("terminated", terms.terminated_on),
    ):  # fmt: skip
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ContractError(f"{name} {day} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    if terms.terminated_on is not None and terms.terminated_on <= terms.start_on:
        raise ContractError(f"terminated {terms.terminated_on} is not after start {terms.start_on}")
    if not (len(terms.currency) == 3 and terms.currency.isascii() and terms.currency.isalpha()
            and terms.currency.isupper()):  # fmt: skip
        raise ContractError(f"currency {terms.currency!r} is not an ISO 4217 code such as EUR")
    effective = terms.effective_on or terms.start_on
    if existing is not None:
        renewals = [
            period_start_on(existing.start_on, MONTHS[existing.period] * n) for n in range(0, 100)
        ]
        if effective not in renewals:
            upcoming = ", ".join(day.isoformat() for day in renewals if day >= now.date())[:60]
            raise ContractError(
                f"company {terms.company_id}: a fee change takes effect at a renewal of the "
                f"contract started {existing.start_on} (e.g. {upcoming}…); give --effective"
            )
    elif effective != terms.start_on:
        raise ContractError(
            f"company {terms.company_id}: a first contract takes effect on its start date"
        )
    return {
        "company_id": terms.company_id,
        "fee": terms.fee,
        "currency": terms.currency,
        "period": terms.period,
        "start_on": terms.start_on if existing is None else existing.start_on,
        "effective_on": effective,
        "tacit_renewal": terms.tacit_renewal,
        "terminated_on": terms.terminated_on,
        "recorded_at": now,
        "by": by,
    }


def load_contracts(engine: Engine) -> dict[int, Contract]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for row in contract_versions(engine):
        grouped.setdefault(row["company_id"], []).append(row)
    return {company_id: _as_contract(versions) for company_id, versions in grouped.items()}


def _versions_of(contract: Contract | None) -> list[dict[str, Any]]:
    if contract is None:
        return []
    return [
        {"company_id": contract.company_id, "fee": version.fee, "currency": contract.currency,
         "period": contract.period, "start_on": contract.start_on,
         "effective_on": version.effective_on, "tacit_renewal": contract.tacit_renewal,
         "terminated_on": contract.terminated_on}
        for version in contract.fees
    ]  # fmt: skip


def _as_contract(versions: list[dict[str, Any]]) -> Contract:
    latest = versions[-1]  # terms other than the fee: the latest version speaks
    fees: dict[date, Decimal] = {}
    for version in versions:  # a later version for the same renewal supersedes an earlier one
        fees[version["effective_on"]] = Decimal(version["fee"])
    return Contract(
        company_id=latest["company_id"],
        period=latest["period"],
        start_on=versions[0]["start_on"],
        fees=tuple(FeeVersion(day, fee) for day, fee in sorted(fees.items())),
        currency=latest["currency"],
        tacit_renewal=latest["tacit_renewal"],
        terminated_on=latest["terminated_on"],
    )


# -- amounts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFacts:
    """What a customer statement says of a ticket beside its overrun."""

    subject: str | None
    created_at: datetime
    deadline: datetime | None  # the GTR's: the end of the 72nd business hour
    restored_at: datetime | None  # None while unrestored


@dataclass
class CustomerPeriod:
    """One line of ``sla-tracker indemnities``: a customer and one subscription period."""

    company_id: int | None  # None: tickets of no company (never under a contract)
    company_name: str | None
    amount: PeriodAmount | None  # None: GTR breaches but no contract
    status: str  # provisional | final | closed | no contract
    frozen: Decimal | None = None  # the closed amount, when closed
    adjustments: list[dict[str, Any]] = field(default_factory=list)
    tickets: dict[int, TicketFacts] = field(default_factory=dict)  # those of ``amount``

    @property
    def shown_amount(self) -> Decimal | None:
        return (
            self.frozen
            if self.frozen is not None
            else (self.amount.amount if self.amount else None)
        )


def breaches_by_company(
    reports: Iterable[JudgedTicket],
    *,
    now: datetime,
    window: tuple[datetime, datetime] | None = None,
) -> dict[int | None, list[Breach]]:
    """C10: each breached GTR clock as an overrun from its breach to restoration (or now),
    clipped to ``window`` when given (what accrued within a week, a year…)."""
    found: dict[int | None, list[Breach]] = {}
    for report in reports:
        clock = report.restoration
        if clock.breached_at is None or clock.state not in BREACHED:
            continue
        start, end = clock.breached_at, clock.stopped_at or now
        if window is not None:
            start, end = max(start, window[0]), min(end, window[1])
            if start >= end:
                continue
        inside = tuple(
            (max(a, start), min(b, end))
            for (a, b), _why in clock.not_counted
            if a < end and b > start
        )
        breach = Breach(report.id, start, end, clock.stopped_at is not None, inside)
        found.setdefault(report.company_id, []).append(breach)
    return found


def customer_periods(
    engine: Engine,
    settings: Settings,
    calendar: BusinessCalendar,
    reports: list[JudgedTicket],
    *,
    now: datetime,
    window: tuple[datetime, datetime] | None = None,
) -> list[CustomerPeriod]:
    """Every customer's indemnities per subscription period, closes and adjustments applied;
    with ``window``, only what accrued within it (closes do not apply to such partial sums)."""
    basis, overlap = indemnity_options(settings)
    names = {report.company_id: report.company_name for report in reports}
    contracts = load_contracts(engine)
    closed = _closed_periods(engine) if window is None else {}
    lines: list[CustomerPeriod] = []
    found = breaches_by_company(reports, now=now, window=window)
    for company_id, breaches in sorted(found.items(), key=lambda item: item[0] or 0):
        contract = contracts.get(company_id) if company_id is not None else None
        if contract is None or company_id is None:
            lines.append(CustomerPeriod(company_id, names.get(company_id), None, "no contract"))
            continue
        amounts = indemnities(contract, breaches, calendar, basis=basis, overlap=overlap)
        lines += _with_closes(
            company_id, names.get(company_id), amounts, closed.get(company_id, {})
        )
    facts = {
        r.id: TicketFacts(r.subject, r.created_at, r.restoration.deadline, r.restoration.stopped_at)
        for r in reports
    }
    for line in lines:
        shares = line.amount.tickets if line.amount else ()
        line.tickets = {share.ticket_id: facts[share.ticket_id] for share in shares}
    return lines


def _with_closes(
    company_id: int, name: str | None, amounts: list[PeriodAmount], closed: dict[datetime, Decimal]
) -> list[CustomerPeriod]:
    lines = []
    carried: list[dict[str, Any]] = []
    for amount in amounts:
        frozen = closed.get(amount.period.start)
        if frozen is None:
            status = "provisional" if amount.provisional else "final"
            lines.append(CustomerPeriod(company_id, name, amount, status, adjustments=carried))
            carried = []
            continue
        lines.append(CustomerPeriod(company_id, name, amount, "closed", frozen=frozen))
        if amount.amount != frozen:
            carried.append({
                "from_period": amount.period.label,
                "amount": f"{amount.amount - frozen:.2f}",
                "reason": f"recomputed {amount.amount:.2f} after it was closed at {frozen:.2f}",
            })  # fmt: skip
    if carried and lines:  # no open period with breaches yet: carry to the last line's record
        lines[-1].adjustments += carried
    return lines


def _closed_periods(engine: Engine) -> dict[int, dict[datetime, Decimal]]:
    closed: dict[int, dict[datetime, Decimal]] = {}
    for company_id, period_start, amount in closed_periods(engine):
        closed.setdefault(company_id, {})[period_start] = amount
    return closed


def close_periods(
    engine: Engine,
    lines: list[CustomerPeriod],
    *,
    window: tuple[datetime, datetime],
    by: str,
    now: datetime,
) -> list[CustomerPeriod]:
    """Freeze the open periods that end inside ``window`` (and have an amount)."""
    start, end = window
    chosen = [
        line for line in lines
        if line.amount is not None and line.status != "closed"
        and start < line.amount.period.end <= end
    ]  # fmt: skip
    rows = [
        {
            "company_id": line.company_id,
            "period_start": line.amount.period.start,
            "period_end": line.amount.period.end,
            "amount": line.amount.amount,
            "currency": line.amount.currency,
            "breach_seconds": line.amount.breach_seconds,
            "detail": {
                "formula": line.amount.formula,
                "tickets": [t.ticket_id for t in line.amount.tickets],
            },
            "closed_at": now,
            "by": by,
        }
        for line in chosen
        if line.amount is not None
    ]
    add_closed_periods(engine, rows)
    return chosen


def period_window(text: str, calendar: BusinessCalendar) -> tuple[datetime, datetime]:
    """``2026``, ``2026-Q4`` or ``2026-11`` as an interval of local time."""
    try:
        if len(text) == 4:
            first, months = date(int(text), 1, 1), 12
        elif "-Q" in text.upper():
            year, quarter = text.upper().split("-Q")
            first, months = date(int(year), 3 * int(quarter) - 2, 1), 3
        else:
            year, month = text.split("-")
            first, months = date(int(year), int(month), 1), 1
    except ValueError:
        raise ContractError(f"period {text!r} is not YYYY, YYYY-Qn or YYYY-MM") from None
    if not FIRST_YEAR <= first.year <= LAST_YEAR:
        raise ContractError(f"period {text!r} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    last = period_start_on(first, months)
    zone = calendar.zone
    return (
        datetime(first.year, first.month, 1, tzinfo=zone),
        datetime(last.year, last.month, 1, tzinfo=zone),
    )


@dataclass(frozen=True)
class Exposure:
    ticket_id: int
    company_id: int | None
    breach_at: datetime
    already_breached: bool
    amount: Decimal | None  # if unrestored until the horizon; None without a contract
    currency: str | None


def exposure(
    engine: Engine,
    settings: Settings,
    calendar: BusinessCalendar,
    reports: list[JudgedTicket],
    *,
    now: datetime,
    until: datetime,
) -> list[Exposure]:
    """Money at risk: each unrestored GTR ticket as if it stayed unrestored until ``until``."""
    basis, overlap = indemnity_options(settings)
    contracts = load_contracts(engine)
    found = []
    for report in reports:
        clock = report.restoration
        if clock.state not in (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED):
            continue
        if clock.breached_at is not None:
            breach_at = clock.breached_at
        elif clock.deadline is not None:  # strict breach: the first business second past it
            breach_at = calendar.next_open_instant(clock.deadline)
        else:
            continue
        contract = None if report.company_id is None else contracts.get(report.company_id)
        amount = None
        if contract is not None:
            amount = Decimal("0.00")
            if until > breach_at:
                breach = Breach(report.id, breach_at, until, restored=False)
                amount = sum(
                    (
                        a.amount
                        for a in indemnities(
                            contract, [breach], calendar, basis=basis, overlap=overlap
                        )
                    ),
                    Decimal("0.00"),
                )
        found.append(Exposure(report.id, report.company_id, breach_at,
                              clock.state is ClockState.BREACHED, amount,
                              contract.currency if contract else None))  # fmt: skip
    return sorted(found, key=lambda item: item.breach_at)


def default_horizon(now: datetime) -> datetime:
    return now + timedelta(days=7)

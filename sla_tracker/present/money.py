"""How indemnities and exposure are shown: stable JSON, CSV, terminal tables, and the
customer statement rendered from ``templates/statement.html`` (French or English)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.table import Table

from sla_tracker.core.instants import format_instant
from sla_tracker.present.output import csv_text
from sla_tracker.present.templates import render_page

if TYPE_CHECKING:
    from datetime import datetime
    from decimal import Decimal

    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.core.indemnity import Basis, Contract
    from sla_tracker.money import CustomerPeriod, Exposure

CSV_COLUMNS = (
    "company_id", "company_name", "period_start", "period_end", "currency", "fee", "amount",
    "capped", "status", "breach_seconds", "tickets", "adjustments",
)  # fmt: skip


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def contract_json(contract: Contract) -> dict[str, Any]:
    return {
        "company_id": contract.company_id,
        "period": contract.period,
        "start": contract.start_on.isoformat(),
        "currency": contract.currency,
        "tacit_renewal": contract.tacit_renewal,
        "terminated": contract.terminated_on.isoformat() if contract.terminated_on else None,
        "fees": [
            {"effective": version.effective_on.isoformat(), "fee": f"{version.fee:.2f}"}
            for version in contract.fees
        ],
    }


def indemnity_json(line: CustomerPeriod) -> dict[str, Any]:
    """One item of ``sla-tracker indemnities --json`` (SPEC §5, issue #5's stable shape)."""
    amount = line.amount
    return {
        "company_id": line.company_id,
        "company_name": line.company_name,
        "period_start": format_instant(amount.period.start) if amount else None,
        "period_end": format_instant(amount.period.end) if amount else None,
        "currency": amount.currency if amount else None,
        "fee": _money(amount.period.fee) if amount else None,
        "amount": _money(line.shown_amount),
        "capped": bool(amount and amount.capped),
        "status": line.status,
        "breach_seconds": amount.breach_seconds if amount else None,
        "tickets": [
            {
                "id": share.ticket_id,
                "breach_start": format_instant(share.breach_start),
                "breach_end": format_instant(share.breach_end),
                "share": f"{share.share:.4f}",
            }
            for share in (amount.tickets if amount else ())
        ],
        "adjustments": line.adjustments,
    }


def indemnities_csv(lines: list[CustomerPeriod]) -> str:
    return csv_text(CSV_COLUMNS, (_csv_row(indemnity_json(line)) for line in lines))


def _csv_row(data: dict[str, Any]) -> list[Any]:
    tickets = " ".join(str(ticket["id"]) for ticket in data["tickets"])
    adjustments = "; ".join(f"{a['from_period']}: {a['amount']}" for a in data["adjustments"])
    return [*(data[key] for key in CSV_COLUMNS[:-2]), tickets, adjustments]


def indemnities_table(lines: list[CustomerPeriod], *, title: str) -> Table:
    table = Table(title=title)
    for column in (
        "company",
        "period",
        "fee",
        "breach",
        "amount",
        "status",
        "tickets",
        "adjustments",
    ):
        table.add_column(column, justify="right" if column in ("fee", "amount") else "left")
    for line in lines:
        amount = line.amount
        hours = f"{amount.breach_seconds / 3600:.1f} h" if amount else ""
        table.add_row(
            f"{line.company_name or ''} ({line.company_id})",
            amount.period.label if amount else "",
            f"{_money(amount.period.fee)} {amount.currency}" if amount else "",
            hours,
            (_money(line.shown_amount) or "no contract")
            + (" (capped)" if amount and amount.capped else ""),
            line.status,
            " ".join(str(t.ticket_id) for t in amount.tickets) if amount else "",
            "; ".join(f"{a['from_period']}: {a['amount']}" for a in line.adjustments),
        )
    return table


def exposure_json(item: Exposure) -> dict[str, Any]:
    return {
        "ticket_id": item.ticket_id,
        "company_id": item.company_id,
        "breach_at": format_instant(item.breach_at),
        "already_breached": item.already_breached,
        "amount_if_unrestored": _money(item.amount),
        "currency": item.currency,
    }


def exposure_table(items: list[Exposure], *, title: str) -> Table:
    table = Table(title=title)
    for column in ("ticket", "company", "breach", "if unrestored"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item.ticket_id),
            str(item.company_id),
            ("since " if item.already_breached else "at ") + format_instant(item.breach_at),
            f"{_money(item.amount)} {item.currency}" if item.amount is not None else "no contract",
        )
    return table


def render_statement(
    lines: list[CustomerPeriod],
    *,
    company_id: int,
    period_text: str,
    language: str,
    calendar: BusinessCalendar,
    basis: Basis,
    now: datetime,
) -> str:
    """The customer statement (``templates/statement.html``): periods, tickets, the clause."""
    zone = calendar.zone

    def local(instant: datetime) -> str:
        return instant.astimezone(zone).strftime("%d/%m/%Y %H:%M")

    periods = [
        {
            "label": f"{local(line.amount.period.start)} → {local(line.amount.period.end)}",
            "fee": _money(line.amount.period.fee),
            "currency": line.amount.currency,
            "amount": _money(line.shown_amount),
            "capped": line.amount.capped,
            "status": line.status,
            "formula": line.amount.formula,
            "tickets": [
                {
                    "id": t.ticket_id,
                    "start": local(t.breach_start),
                    "end": local(t.breach_end),
                    "hours": f"{t.seconds / 3600:.2f}",
                    "share": f"{t.share:.2f}",
                }
                for t in line.amount.tickets
            ],
        }
        for line in lines
        if line.amount is not None
    ]
    context = {
        "company_id": company_id,
        "company_name": lines[0].company_name if lines else None,
        "period_text": period_text,
        "periods": periods,
        "basis": basis,
        "timezone": calendar.timezone,
        "generated": local(now),
    }
    return render_page("statement", context, language)

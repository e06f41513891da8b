"""How indemnities and exposure are shown: stable JSON, CSV, and the
customer statement rendered from ``templates/statement.html`` (French or English)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sla_tracker.core.instants import format_instant
from sla_tracker.present.output import csv_text
from sla_tracker.present.templates import render_page

if TYPE_CHECKING:
    from datetime import datetime

    from sla_tracker.config import IssuerSettings
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


def exposure_json(item: Exposure) -> dict[str, Any]:
    return {
        "ticket_id": item.ticket_id,
        "company_id": item.company_id,
        "breach_at": format_instant(item.breach_at),
        "already_breached": item.already_breached,
        "amount_if_unrestored": _money(item.amount),
        "currency": item.currency,
    }


def statement_number(company_id: int, period_text: str, lines: list[CustomerPeriod]) -> str:
    """Customer, period and version: the same figures always give the same number, and a
    statement reissued after any change (a restoration, a close, a new fee) a new one."""
    figures = [
        (line.amount.period.label, str(line.shown_amount), line.status,
         [(t.ticket_id, str(t.seconds)) for t in line.amount.tickets])
        for line in lines
        if line.amount is not None
    ]  # fmt: skip
    version = hashlib.sha256(json.dumps(figures).encode()).hexdigest()[:6].upper()
    return f"{company_id}-{period_text}-{version}"


def _statement_context(
    lines: list[CustomerPeriod],
    *,
    company_id: int,
    period_text: str,
    calendar: BusinessCalendar,
    basis: Basis,
    issuer: IssuerSettings | None,
    now: datetime,
) -> dict[str, Any]:
    periods = [
        {
            "start": line.amount.period.start,
            "end": line.amount.period.end,
            "fee": line.amount.period.fee,
            "currency": line.amount.currency,
            "amount": line.shown_amount,
            "exact": line.amount.exact,
            "capped": line.amount.capped,
            "status": line.status,
            "breach_hours": Decimal(line.amount.breach_seconds) / 3600,
            "period_hours": Decimal(line.amount.period_seconds) / 3600,
            "adjustments": line.adjustments,
            "tickets": [
                {
                    "id": share.ticket_id,
                    "facts": line.tickets.get(share.ticket_id),
                    "start": share.breach_start,
                    "end": share.breach_end,
                    "hours": share.seconds / 3600,
                    "share": share.share,
                }
                for share in line.amount.tickets
            ],
        }
        for line in lines
        if line.amount is not None
    ]
    return {
        "company_id": company_id,
        "company_name": lines[0].company_name if lines else None,
        "number": statement_number(company_id, period_text, lines),
        "issuer": issuer,
        "period_text": period_text,
        "periods": periods,
        "total": sum((p["amount"] or Decimal(0) for p in periods), Decimal(0)),
        "currency": periods[0]["currency"] if periods else None,
        "basis": basis,
        "zone": calendar.zone,
        "timezone": calendar.timezone,
        "now": now,
        "issued": now.astimezone(calendar.zone).date(),
    }


def render_statement(
    lines: list[CustomerPeriod],
    *,
    company_id: int,
    period_text: str,
    language: str,
    calendar: BusinessCalendar,
    basis: Basis,
    now: datetime,
    issuer: IssuerSettings | None = None,
) -> str:
    """The customer statement (``templates/statement.html``), A4 print-ready HTML: issuer,
    number, customer, each ticket's dates, overrun and amount, the formula, the clauses."""
    context = _statement_context(
        lines, company_id=company_id, period_text=period_text, calendar=calendar,
        basis=basis, issuer=issuer, now=now,
    )  # fmt: skip
    return render_page("statement", context, language)


PDF_EXTRA = "pip install 'sla-tracker[pdf]'"


class PdfUnavailableError(RuntimeError):
    """WeasyPrint, an optional extra, is not installed."""


def render_statement_pdf(
    lines: list[CustomerPeriod],
    *,
    company_id: int,
    period_text: str,
    language: str,
    calendar: BusinessCalendar,
    basis: Basis,
    now: datetime,
    issuer: IssuerSettings | None = None,
) -> bytes:
    """The same statement as an A4 PDF, through WeasyPrint (the ``pdf`` extra)."""
    try:
        from weasyprint import HTML  # the optional extra, imported only when asked for
    except (ImportError, OSError):  # OSError: installed, but its Pango library is missing
        raise PdfUnavailableError(
            f"PDF statements need WeasyPrint, an optional extra: {PDF_EXTRA} "
            "(and the Pango library it uses: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
        ) from None
    html = render_statement(
        lines, company_id=company_id, period_text=period_text, language=language,
        calendar=calendar, basis=basis, now=now, issuer=issuer,
    )  # fmt: skip
    return bytes(HTML(string=html).write_pdf())

"""The money views of the CLI as terminal tables that fit 80 columns: indemnities per
customer and period, exposure, contracts with every fee version. Customers by name,
amounts never cut, a total per currency."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich.text import Text

from sla_tracker.present.numbers import money
from sla_tracker.present.output import Column, FittedTable
from sla_tracker.present.when import duration, local_instant, relative

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date, datetime, tzinfo

    from sla_tracker.money import CustomerPeriod, Exposure

LANG = "en"


def _company(company_id: int | None, names: Mapping[int, str]) -> str:
    if company_id is None:
        return "no company"
    return names.get(company_id) or f"company {company_id}"


def _totals(amounts: Sequence[tuple[Decimal, str]]) -> str:
    """One total per currency, in the order they first appear."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for amount, currency in amounts:
        sums[currency] += amount
    return " + ".join(money(total, currency, LANG) for currency, total in sums.items()) or "—"


def indemnities_table(lines: Sequence[CustomerPeriod], *, title: str) -> FittedTable:
    """Each customer's claimable amount per subscription period (C10, capped by C12)."""
    table = FittedTable(
        title,
        [Column("id", justify="right"), Column("customer", flexible=True), Column("period"),
         Column("breach", justify="right"), Column("tickets", justify="right"),
         Column("status"), Column("amount", justify="right")],
    )  # fmt: skip
    claimed: list[tuple[Decimal, str]] = []
    notes = []
    for line in lines:
        amount = line.amount
        customer = line.company_name or f"company {line.company_id}"
        if amount is None:
            table.rows.append(
                [str(line.company_id), customer, "", "", "", line.status,
                 Text("no contract", "dim")]
            )  # fmt: skip
            continue
        shown = line.shown_amount or Decimal(0)
        claimed.append((shown, amount.currency))
        table.rows.append([
            str(line.company_id), customer, amount.period.label,
            duration(amount.breach_seconds, LANG, largest="hour") if amount.breach_seconds else "—",
            str(len(amount.tickets)), line.status,
            money(shown, amount.currency, LANG) + (" capped" if amount.capped else ""),
        ])  # fmt: skip
        notes += [
            f"{customer} {amount.period.label}: {adjustment['amount']} carried from "
            f"{adjustment['from_period']} ({adjustment['reason']})"
            for adjustment in line.adjustments
        ]
    table.totals = ["", "total", "", "", "", "", _totals(claimed)]
    table.caption = "\n".join(["Adjustments:", *notes]) if notes else None
    return table


def exposure_table(
    items: Sequence[Exposure],
    *,
    title: str,
    names: Mapping[int, str],
    zone: tzinfo,
    now: datetime,
) -> FittedTable:
    """Unrestored GTR tickets: when each breaches (or breached), what it would cost."""
    table = FittedTable(
        title,
        [Column("ticket", justify="right"), Column("customer", flexible=True),
         Column("breach"), Column("if unrestored", justify="right")],
    )  # fmt: skip
    for item in items:
        when = (
            f"{local_instant(item.breach_at, zone, LANG)} ({relative(item.breach_at, now, LANG)})"
        )
        cost: Text | str = Text("no contract", "dim")
        if item.amount is not None and item.currency is not None:
            cost = money(item.amount, item.currency, LANG)
        style = "red" if item.already_breached else "yellow"
        table.rows.append(
            [str(item.ticket_id), _company(item.company_id, names), Text(when, style), cost]
        )
    costs = [(i.amount, i.currency) for i in items if i.amount is not None and i.currency]
    table.totals = ["total", f"{len(items)} ticket(s)", "", _totals(costs)]
    table.caption = "breach: red already breached, yellow to come"
    return table


def fee_versions(rows: Sequence[Mapping[str, Any]], today: date) -> list[dict[str, Any]]:
    """Each recorded fee version with its standing: ``superseded`` (re-recorded later for
    the same renewal), ``applies`` (today's fee), ``earlier`` or ``from <date>``."""
    final = {(row["company_id"], row["effective_on"]): row["id"] for row in rows}
    current: dict[int, Any] = {}
    for row in rows:
        if final[row["company_id"], row["effective_on"]] == row["id"] and (
            row["effective_on"] <= today
        ):
            best = current.get(row["company_id"])
            if best is None or row["effective_on"] > best["effective_on"]:
                current[row["company_id"]] = row
    found = []
    for row in rows:
        if final[row["company_id"], row["effective_on"]] != row["id"]:
            standing = "superseded"
        elif current.get(row["company_id"]) is row:
            standing = "applies"
        elif row["effective_on"] > today:
            standing = "scheduled"
        else:
            standing = "earlier"
        found.append({**row, "standing": standing})
    return found


STANDING_STYLE = {"applies": "bold green", "superseded": "dim", "scheduled": "", "earlier": ""}


def contracts_table(
    versions: Sequence[Mapping[str, Any]],
    *,
    names: Mapping[int, str],
    zone: tzinfo,
    now: datetime,
) -> FittedTable:
    """Every contract version as recorded (who, when), and which fee applies today."""
    table = FittedTable(
        f"Contracts as of {local_instant(now, zone, LANG, year=True)}",
        [Column("id", justify="right"), Column("customer", flexible=True), Column("period"),
         Column("from"), Column("fee", justify="right"), Column("standing"),
         Column("recorded", flexible=True)],
    )  # fmt: skip
    applying: list[tuple[Decimal, str]] = []
    for row in versions:
        if row["standing"] == "applies":
            applying.append((Decimal(row["fee"]), row["currency"]))
        recorded = f"{row['recorded_at'].astimezone(zone).date().isoformat()} {row['by']}"
        table.rows.append([
            str(row["company_id"]), _company(row["company_id"], names), row["period"],
            row["effective_on"].isoformat(),
            money(Decimal(row["fee"]), row["currency"], LANG),
            Text(row["standing"], STANDING_STYLE[row["standing"]]), recorded,
        ])  # fmt: skip
    customers = len({row["company_id"] for row in versions})
    table.totals = ["", f"{customers} customer(s)", "", "", _totals(applying), "applies", ""]
    return table

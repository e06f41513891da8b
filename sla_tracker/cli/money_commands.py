"""Money commands: contracts, indemnities, exposure, period close, statements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sla_tracker.cli.base import (
    FRESHDESK_ID,
    Runtime,
    _as_of,
    _customer_lines,
    _emitted,
    _optional_instant,
    _unrestored_gtr_candidates,
    as_of_option,
    by_option,
    company_names,
    local_time,
    require_company,
    write_file,
)

if TYPE_CHECKING:
    from datetime import datetime


@click.group()
def contracts() -> None:
    """Customer contracts: fee, period, start; fee changes at renewals."""


@contracts.command("set")
@click.argument("company_id", type=FRESHDESK_ID)
@click.option("--fee", required=True, help="Fee of one period, excluding tax (HT).")
@click.option(
    "--period",
    type=click.Choice(["monthly", "annual", "two_years"]),
    default="annual",
    show_default=True,
)
@click.option(
    "--start", "start_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Start date."
)
@click.option(
    "--effective", type=click.DateTime(["%Y-%m-%d"]), help="Renewal date a new fee applies from."
)
@click.option("--currency", default="EUR", show_default=True)
@click.option("--tacit-renewal/--no-tacit-renewal", default=True, show_default=True)
@click.option("--terminated", type=click.DateTime(["%Y-%m-%d"]), help="Termination date.")
@by_option("records it")
@click.pass_obj
def contracts_set(
    runtime: Runtime, company_id: int, fee: str, period: str, start_on: datetime,
    effective: datetime | None, currency: str, tacit_renewal: bool, terminated: datetime | None,
    by: str,
) -> None:  # fmt: skip
    """Record a customer's contract, or a new fee from a renewal (versions are kept).

    \b
    Example:
        sla-tracker contracts set 103001000001 --fee 6000 --period annual --start 2026-01-01
        sla-tracker contracts set 103001000001 --fee 6600 --start 2026-01-01 --effective 2027-01-01
    """
    from sla_tracker.money import ContractTerms, load_contracts, parse_fee, record_contract

    terms = ContractTerms(
        company_id, parse_fee(fee), period, start_on.date(),
        effective.date() if effective else None, currency, tacit_renewal,
        terminated.date() if terminated else None,
    )  # fmt: skip
    existing = load_contracts(runtime.engine).get(company_id)
    record_contract(runtime.engine, terms, by=by, now=runtime.now)
    effective_on = terms.effective_on or terms.start_on
    said = f"Company {company_id}: {terms.fee:.2f} {currency} {period} from {effective_on}"
    if existing is not None:
        replaced = [v.fee for v in existing.fees if v.effective_on == effective_on]
        said += (
            f" — replaces the fee {replaced[0]:.2f} recorded for that date"
            if replaced
            else f" — a new version of the contract started {existing.start_on}"
        ) + "; earlier versions are kept (`sla-tracker contracts list`)"
    click.echo(said)


@contracts.command("list")
@click.option(
    "--sort", type=click.Choice(["customer", "fee", "recorded"]), default="customer",
    show_default=True, help="Order of the fee versions.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def contracts_list(runtime: Runtime, sort: str, as_json: bool) -> None:
    """The contracts on record: every fee version, who recorded it and when, and which
    one applies today.

    \b
    Example:
        sla-tracker contracts list
        sla-tracker contracts list --json
    """
    from sla_tracker.money import load_contracts
    from sla_tracker.present.money import contract_json
    from sla_tracker.present.money_tables import contracts_table, fee_versions
    from sla_tracker.present.output import render
    from sla_tracker.storage.contracts import contract_versions

    if as_json:
        data = [contract_json(contract) for contract in load_contracts(runtime.engine).values()]
        click.echo(json.dumps(data, indent=2))
        return
    zone = runtime.calendar(None).zone
    names = company_names(runtime)
    versions = fee_versions(contract_versions(runtime.engine), runtime.now.astimezone(zone).date())
    keys = {
        "customer": lambda v: (names.get(v["company_id"], ""), v["company_id"], v["id"]),
        "fee": lambda v: (-v["fee"], v["id"]),
        "recorded": lambda v: (v["recorded_at"], v["id"]),
    }
    versions.sort(key=keys[sort])
    if not versions:
        click.echo("No contract recorded: `sla-tracker contracts set` or `contracts import`")
        return
    render(contracts_table(versions, names=names, zone=zone, now=runtime.now))


@contracts.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@by_option("records them")
@click.pass_obj
def contracts_import(runtime: Runtime, path: Path, by: str) -> None:
    """Import contracts from CSV, all or nothing.

    Columns: company_id, fee, period, start, and optionally effective, currency,
    tacit_renewal, terminated. A bad row is reported with its line number.

    \b
    Example:
        sla-tracker contracts import contracts.csv
    """
    from sla_tracker.money import import_contracts

    count = import_contracts(runtime.engine, path, by=by, now=runtime.now)
    click.echo(f"Imported {count} contract version(s) from {path}")


@click.command("indemnities")
@click.option("--company", "company_id", type=FRESHDESK_ID, help="Only this Freshdesk company id.")
@click.option(
    "--period", "period_text", help="Subscription periods overlapping 2026, 2026-Q4 or 2026-11."
)
@click.option(
    "--sort", type=click.Choice(["customer", "amount", "period"]), default="customer",
    show_default=True, help="Order: by customer name, largest amount first, or by period.",
)  # fmt: skip
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def indemnities_command(
    runtime: Runtime, company_id: int | None, period_text: str | None, sort: str,
    as_of: datetime | None, as_json: bool, as_csv: bool,
) -> None:  # fmt: skip
    """What each customer could claim (C10), per subscription period, capped (C12).

    \b
    Example:
        sla-tracker indemnities --period 2026 --json
    """
    from sla_tracker.money import period_window
    from sla_tracker.present.money import indemnities_csv, indemnity_json
    from sla_tracker.present.money_tables import indemnities_table
    from sla_tracker.present.output import render

    if company_id is not None:
        require_company(runtime, company_id)
    now = _as_of(runtime, as_of)
    lines = _customer_lines(runtime, now)
    window = period_window(period_text, runtime.calendar(None)) if period_text else None
    chosen = [
        line for line in lines
        if (company_id is None or line.company_id == company_id)
        and (window is None or line.amount is None
             or (line.amount.period.start < window[1] and line.amount.period.end > window[0]))
    ]  # fmt: skip
    keys = {
        "customer": lambda line: (line.company_name or "", line.company_id),
        "amount": lambda line: (-(line.shown_amount or 0), line.company_name or ""),
        "period": lambda line: (line.amount.period.start if line.amount else now, line.company_id),
    }
    chosen.sort(key=keys[sort])
    if _emitted(chosen, indemnity_json, indemnities_csv, as_json=as_json, as_csv=as_csv):
        return
    if not chosen:
        click.echo(f"No indemnity as of {local_time(runtime, now)}: no breached GTR ticket "
                   "of a customer with a contract matches")  # fmt: skip
    else:
        render(indemnities_table(chosen, title=f"Indemnities as of {local_time(runtime, now)}"))


@click.command("exposure")
@click.option("--until", callback=_optional_instant, help="Horizon (default: in 7 days).")
@click.option(
    "--sort", type=click.Choice(["breach", "amount", "customer"]), default="breach",
    show_default=True, help="Order: earliest breach, largest amount or customer name first.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def exposure_command(runtime: Runtime, until: datetime | None, sort: str, as_json: bool) -> None:
    """Money at risk: unrestored GTR tickets as if they stayed so until the horizon.

    \b
    Example:
        sla-tracker exposure --until 2026-12-31T23:59:59+01:00
    """
    from sla_tracker.money import default_horizon, exposure
    from sla_tracker.present.money import exposure_json
    from sla_tracker.present.money_tables import exposure_table
    from sla_tracker.present.output import render

    horizon = until or default_horizon(runtime.now)
    reports = _unrestored_gtr_candidates(runtime)
    found = exposure(
        runtime.engine, runtime.settings, runtime.calendar(None), reports,
        now=runtime.now, until=horizon,
    )  # fmt: skip
    names = company_names(runtime)
    keys = {
        "breach": lambda item: (item.breach_at, item.ticket_id),
        "amount": lambda item: (-(item.amount or 0), item.breach_at),
        "customer": lambda item: (names.get(item.company_id or 0, ""), item.breach_at),
    }
    found.sort(key=keys[sort])
    if as_json:
        click.echo(json.dumps([exposure_json(item) for item in found], indent=2))
    else:
        title = f"Exposure until {local_time(runtime, horizon)}"
        render(exposure_table(found, title=title, names=names, zone=runtime.calendar(None).zone,
                              now=runtime.now))  # fmt: skip


@click.group()
def period() -> None:
    """Subscription periods: freeze their indemnities."""


@period.command("close")
@click.argument("targets", nargs=-1, metavar="(COMPANY_ID|--all) PERIOD")
@click.option("--all", "all_companies", is_flag=True, help="Every customer.")
@click.option("--force", is_flag=True, help="Close even though PERIOD has not ended yet.")
@by_option("closes")
@click.pass_obj
def period_close(
    runtime: Runtime, targets: tuple[str, ...], all_companies: bool, force: bool, by: str
) -> None:
    """Freeze the indemnities of subscription periods ending within PERIOD.

    A later change that would alter a closed period shows as an adjustment carried to the
    next open period, never as a silent rewrite. A PERIOD that has not ended is refused
    (its amounts can still change) unless --force.

    \b
    Example:
        sla-tracker period close --all 2026
        sla-tracker period close 103001000001 2026-12
    """
    from sla_tracker.money import close_periods, period_window

    if len(targets) != (1 if all_companies else 2):
        raise click.UsageError(
            "give a COMPANY_ID or --all, then the PERIOD (2026, 2026-Q4, 2026-11)"
        )
    period_text = targets[-1]
    company_id = (
        None
        if all_companies
        else FRESHDESK_ID.convert(targets[0], None, click.get_current_context())
    )
    window = period_window(period_text, runtime.calendar(None))
    if window[1] > runtime.now and not force:
        raise click.ClickException(
            f"{period_text} ends {local_time(runtime, window[1])}, after now: its amounts can "
            "still change. Close it once it has ended, or give --force"
        )
    if company_id is not None:
        require_company(runtime, company_id)
    lines = [line for line in _customer_lines(runtime, runtime.now)
             if all_companies or line.company_id == company_id]  # fmt: skip
    closed = close_periods(runtime.engine, lines, window=window, by=by, now=runtime.now)
    for line in closed:
        amount = line.amount
        if amount is not None:
            click.echo(f"Closed {line.company_id} {amount.period.label}: {amount.amount:.2f}")
    if not closed:
        click.echo("Nothing to close: no open period with an indemnity ends in " + period_text)


@click.command("statement")
@click.argument("company_id", type=FRESHDESK_ID)
@click.option("--period", "period_text", required=True, help="2026, 2026-Q4 or 2026-11.")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Default: report.language.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write (HTML, or PDF with --pdf).",
)
@click.option("--pdf", is_flag=True, help="Write an A4 PDF (needs the pdf extra: WeasyPrint).")
@as_of_option
@click.pass_obj
def statement_command(
    runtime: Runtime,
    company_id: int,
    period_text: str,
    lang: str | None,
    out: Path,
    pdf: bool,
    as_of: datetime | None,
) -> None:
    """Write a customer's indemnity statement (HTML, or PDF) for a support manager to send.

    \b
    Example:
        sla-tracker statement 103001000001 --period 2026 --lang fr --out releve-2026.html
        sla-tracker statement 103001000001 --period 2026 --pdf --out releve-2026.pdf
    """
    from sla_tracker.money import load_contracts, period_window
    from sla_tracker.policies import indemnity_options
    from sla_tracker.present.money import render_statement, render_statement_pdf

    require_company(runtime, company_id)
    now = _as_of(runtime, as_of)
    calendar_ = runtime.calendar(None)
    window = period_window(period_text, calendar_)
    lines = [line for line in _customer_lines(runtime, now) if line.company_id == company_id
             and line.amount is not None and line.amount.period.start < window[1]
             and line.amount.period.end > window[0]]  # fmt: skip
    if not lines and company_id not in load_contracts(runtime.engine):
        raise click.ClickException(
            f"no contract recorded for company {company_id}: a statement needs its fee "
            "(`sla-tracker contracts set`)"
        )
    render = render_statement_pdf if pdf else render_statement
    document = render(lines, company_id=company_id, period_text=period_text,
                      language=lang or runtime.settings.report.language, calendar=calendar_,
                      basis=indemnity_options(runtime.settings)[0], now=now,
                      issuer=runtime.settings.issuer)  # fmt: skip
    write_file(out, document)
    click.echo(f"Wrote {out} ({len(lines)} period(s))")

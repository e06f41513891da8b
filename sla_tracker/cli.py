"""The ``sla-tracker`` command line: thin commands over the library.

The current instant is read once here (``$SLA_TRACKER_NOW`` overrides it) and passed down;
settings are loaded lazily so that ``--help`` works even with a broken config file.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from sqlalchemy import select

from sla_tracker import __version__
from sla_tracker.alerts import due_events, render_alert
from sla_tracker.calendars import available_calendars, load_named_calendar
from sla_tracker.config import (
    ConfigError,
    Settings,
    current_instant,
    find_config_file,
    load_settings,
)
from sla_tracker.core.calendar import BusinessCalendar, CalendarError
from sla_tracker.core.classification import GtrObject, Severity
from sla_tracker.core.clocks import ClockState
from sla_tracker.core.instants import format_instant, parse_instant
from sla_tracker.decisions import (
    EXCLUSION_REASONS,
    DecisionError,
    record_classification,
    record_exclusion,
    revoke_exclusions,
)
from sla_tracker.evaluate import TicketReport, evaluate_tickets, settings_fingerprint
from sla_tracker.freshdesk import FreshdeskClient, FreshdeskError
from sla_tracker.indemnities import (
    ContractError,
    ContractTerms,
    CustomerPeriod,
    close_periods,
    customer_periods,
    default_horizon,
    exposure,
    import_contracts,
    load_contracts,
    parse_fee,
    period_window,
    record_contract,
)
from sla_tracker.mailer import MailError
from sla_tracker.money_views import (
    contract_json,
    exposure_json,
    exposure_table,
    indemnities_csv,
    indemnities_table,
    indemnity_json,
    render_statement,
)
from sla_tracker.reports import (
    ReportError,
    build_weekly_report,
    previous_week,
    render_weekly_report,
    send_weekly_report,
)
from sla_tracker.scheduler import Service, build_scheduler, triggers
from sla_tracker.simulator.server import Simulator, SimulatorHTTPServer, make_state
from sla_tracker.storage import (
    Company,
    StoreError,
    SyncRun,
    SyncState,
    lock_holder,
    open_store,
    service_lock,
    table_of,
    upgrade,
)
from sla_tracker.sync import RECONCILE, SyncError, SyncReport, sync_once
from sla_tracker.ticket_views import (
    explanation_text,
    ticket_json,
    ticket_text,
    tickets_csv,
    tickets_table,
    urgency,
)
from sla_tracker.views import calendar_ics, month_table, render, sync_progress

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine


@dataclass
class Runtime:
    """What every command shares: where settings come from, and the run's instant."""

    config_path: str | None
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        import os

        return load_settings(find_config_file(self.config_path, os.environ))

    @cached_property
    def now(self) -> datetime:
        return current_instant()

    @cached_property
    def engine(self) -> Engine:
        return open_store(self.settings.database.url)

    def calendar(self, name: str | None) -> BusinessCalendar:
        name = name or self.settings.calendar.name
        if name not in self.calendars:
            self.calendars[name] = load_named_calendar(name, self.settings)
        return self.calendars[name]


class TrackerGroup(click.Group):
    """Turns the library's own errors into ``Error: …`` and exit status 1, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (
            ConfigError, CalendarError, StoreError, FreshdeskError, SyncError, DecisionError,
            ContractError, ReportError, MailError,
        ) as error:  # fmt: skip
            raise click.ClickException(str(error)) from None


def _instant(ctx: click.Context, param: click.Parameter, value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


def _optional_instant(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    return None if value is None else _instant(ctx, param, value)


calendar_option = click.option(
    "--calendar", "calendar_name", metavar="NAME", help="Calendar name (default: calendar.name)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group(cls=TrackerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sla-tracker")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file (default: $SLA_TRACKER_CONFIG, else ./sla-tracker.toml, else defaults).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Track a support contract's SLA clocks, breaches and indemnities from Freshdesk.

    Set SLA_TRACKER_NOW=<ISO instant> to answer as of another instant.
    """
    ctx.obj = Runtime(config_path)


@cli.command("check-config")
@click.pass_obj
def check_config(runtime: Runtime) -> None:
    """Validate the configuration and the selected calendar.

    \b
    Example:
        sla-tracker --config sla-tracker.toml check-config
    """
    settings = runtime.settings
    calendar = runtime.calendar(None)
    click.echo(f"OK: {settings.source} (calendar {calendar.name}, {calendar.timezone})")


@cli.group()
def calendar() -> None:
    """Business-time calculator on a support calendar."""


@calendar.command("between")
@click.argument("start", callback=_instant, metavar="START")
@click.argument("end", callback=_instant, metavar="END")
@calendar_option
@json_option
@click.pass_obj
def calendar_between(
    runtime: Runtime, start: datetime, end: datetime, calendar_name: str | None, as_json: bool
) -> None:
    """Business seconds between two instants (half-open [START, END)).

    \b
    Example:
        sla-tracker calendar between 2026-01-01T00:00:00+01:00 2027-01-01T00:00:00+01:00 --json
        {"business_seconds": 7988400}
    """
    seconds = runtime.calendar(calendar_name).business_seconds(start, end)
    if as_json:
        click.echo(json.dumps({"business_seconds": seconds}))
    else:
        hours, rest = divmod(seconds, 3600)
        click.echo(f"{seconds} business seconds ({hours} h {rest // 60:02d} min {rest % 60:02d} s)")


@calendar.command("deadline")
@click.argument("start", callback=_instant, metavar="START")
@click.argument("hours")
@calendar_option
@json_option
@click.pass_obj
def calendar_deadline(
    runtime: Runtime, start: datetime, hours: str, calendar_name: str | None, as_json: bool
) -> None:
    """When a budget of HOURS business hours from START runs out.

    HOURS may be decimal (0.5 = 30 minutes). A budget that ends at closing time ends then.

    \b
    Example:
        sla-tracker calendar deadline 2026-11-27T15:30:00Z 2 --json
        {"deadline": "2026-11-30T09:30:00Z"}
    """
    cal = runtime.calendar(calendar_name)
    deadline = cal.add_business_seconds(start, _hours_to_seconds(hours))
    if as_json:
        click.echo(json.dumps({"deadline": format_instant(deadline)}))
    else:
        local = deadline.astimezone(cal.zone)
        click.echo(f"{format_instant(deadline)} ({local:%a %d %b %Y %H:%M} {cal.timezone})")


@calendar.command("show")
@click.argument("month", metavar="YYYY-MM")
@calendar_option
@click.pass_obj
def calendar_show(runtime: Runtime, month: str, calendar_name: str | None) -> None:
    """Opening windows and named holidays of a month.

    \b
    Example:
        sla-tracker calendar show 2026-05
    """
    try:
        year, month_number = (int(part) for part in month.split("-"))
        datetime(year, month_number, 1)
    except ValueError:
        raise click.BadParameter(f"{month!r} is not a month; use YYYY-MM, e.g. 2026-05") from None
    render(month_table(runtime.calendar(calendar_name), year, month_number))


@calendar.command("ics")
@click.argument("year", type=click.IntRange(1900, 2999))
@calendar_option
@click.option("--out", type=click.File("wb"), default="-", help="File to write (default: stdout).")
@click.pass_obj
def calendar_ics_command(runtime: Runtime, year: int, calendar_name: str | None, out: Any) -> None:
    """The year's closures (holidays, extra closed days) as iCalendar.

    \b
    Example:
        sla-tracker calendar ics 2026 --out fermetures-2026.ics
    """
    out.write(calendar_ics(runtime.calendar(calendar_name), year, now=runtime.now))


@calendar.command("list")
@click.pass_obj
def calendar_list(runtime: Runtime) -> None:
    """Calendars that can be selected by name.

    \b
    Example:
        sla-tracker calendar list
    """
    for name in available_calendars(runtime.settings):
        click.echo(name)


@cli.command("sync")
@click.option("--full", is_flag=True, help="Re-read every ticket since sync.start_date.")
@click.option("--since", callback=_optional_instant, help="Re-read tickets updated since INSTANT.")
@click.option("--reconcile", is_flag=True, help="Also re-read open tickets by id now.")
@click.pass_obj
def sync_command(runtime: Runtime, full: bool, since: datetime | None, reconcile: bool) -> None:
    """Poll Freshdesk into the database (incremental; safe to interrupt and rerun).

    \b
    Example:
        SLA_TRACKER_FRESHDESK_API_KEY=... sla-tracker sync
        sla-tracker sync --since 2026-11-01T00:00:00Z
    """
    client = FreshdeskClient.from_settings(runtime.settings.freshdesk)
    report = _sync(runtime, client, full=full, since=since, reconcile=reconcile)
    click.echo(report.summary())


def _sync(runtime: Runtime, client: FreshdeskClient, **options: Any) -> SyncReport:
    with sync_progress() as progress:
        return sync_once(
            client, runtime.engine, runtime.settings, now=runtime.now, progress=progress, **options
        )


def _as_of(runtime: Runtime, as_of: datetime | None) -> datetime:
    return as_of or runtime.now


def _reports(
    runtime: Runtime, *, now: datetime, ticket_ids: list[int] | None = None, detail: bool = False
) -> list[TicketReport]:
    return evaluate_tickets(
        runtime.engine, runtime.settings, runtime.calendar(None), now=now,
        ticket_ids=ticket_ids, with_transitions=detail,
    )  # fmt: skip


def _one(runtime: Runtime, ticket_id: int, now: datetime) -> TicketReport:
    found = _reports(runtime, now=now, ticket_ids=[ticket_id], detail=True)
    if not found:
        raise click.ClickException(
            f"no ticket {ticket_id} known as of {format_instant(now)}: check the id, or run "
            "`sla-tracker sync` first"
        )
    return found[0]


as_of_option = click.option(
    "--as-of", callback=_optional_instant, help="Answer as the tracker would have at INSTANT."
)


@cli.command("tickets")
@click.option("--open", "only_open", is_flag=True, help="Only tickets not restored.")
@click.option(
    "--severity", type=click.Choice([s.value for s in Severity]), help="Only this severity."
)
@click.option("--company", "company_id", type=int, help="Only this Freshdesk company id.")
@click.option("--at-risk", is_flag=True, help="Running clocks past the first alert threshold.")
@click.option("--breached", is_flag=True, help="Clocks past their target.")
@click.option("--needs-review", is_flag=True, help="Clocks that rest on an unseen change.")
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def tickets_command(
    runtime: Runtime, only_open: bool, severity: str | None, company_id: int | None,
    at_risk: bool, breached: bool, needs_review: bool, as_of: datetime | None,
    as_json: bool, as_csv: bool,
) -> None:  # fmt: skip
    """Tickets with their clocks, the most urgent first.

    \b
    Example:
        sla-tracker tickets --open --at-risk
        sla-tracker tickets --breached --as-of 2026-11-27T17:00:00+01:00 --json
    """
    threshold = min(runtime.settings.alerts.thresholds, default=100) / 100
    restored = set(runtime.settings.restoration.restored_statuses)
    chosen = [
        report
        for report in _reports(runtime, now=_as_of(runtime, as_of))
        if (not only_open or report.row["status"] not in restored)
        and (severity is None or report.classification.severity.value == severity)
        and (company_id is None or report.row["company_id"] == company_id)
        and (not at_risk or is_at_risk(report, threshold))
        and (not breached or is_breached(report))
        and (not needs_review or report.needs_review)
    ]
    chosen.sort(key=urgency)
    if not _emitted(chosen, ticket_json, tickets_csv, as_json=as_json, as_csv=as_csv):
        render(
            tickets_table(
                chosen,
                title=f"{len(chosen)} ticket(s) as of {format_instant(_as_of(runtime, as_of))}",
            )
        )


def _emitted(
    items: list[Any],
    to_json: Callable[[Any], dict[str, Any]],
    to_csv: Callable[[list[Any]], str],
    *,
    as_json: bool,
    as_csv: bool,
) -> bool:
    """Print ``--json`` or ``--csv`` output when asked; False leaves the table to the caller."""
    if as_json:
        click.echo(json.dumps([to_json(item) for item in items], ensure_ascii=False, indent=2))
    elif as_csv:
        click.echo(to_csv(items), nl=False)
    return as_json or as_csv


def is_at_risk(report: TicketReport, threshold: float) -> bool:
    """SPEC §4: a running contractual clock that has used at least the first threshold."""
    return any(
        clock.contractual and clock.state in (ClockState.RUNNING, ClockState.PAUSED)
        and clock.used_fraction >= threshold
        for clock in (report.response, report.restoration)
    )  # fmt: skip


def is_breached(report: TicketReport) -> bool:
    return any(
        clock.contractual and clock.state in (ClockState.BREACHED, ClockState.BREACHED_CLOSED)
        for clock in (report.response, report.restoration)
    )


@cli.command("ticket")
@click.argument("ticket_id", type=int)
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def ticket_command(runtime: Runtime, ticket_id: int, as_of: datetime | None, as_json: bool) -> None:
    """One ticket: classification, timeline and clocks.

    \b
    Example:
        sla-tracker ticket 48230
        sla-tracker ticket 48230 --json
    """
    report = _one(runtime, ticket_id, _as_of(runtime, as_of))
    if as_json:
        click.echo(json.dumps(ticket_json(report), ensure_ascii=False, indent=2))
    else:
        click.echo(ticket_text(report, runtime.calendar(None)))


@cli.command("explain")
@click.argument("ticket_id", type=int)
@as_of_option
@click.pass_obj
def explain_command(runtime: Runtime, ticket_id: int, as_of: datetime | None) -> None:
    """The evidence trace of a ticket's clocks: every interval, counted or not, and why.

    \b
    Example:
        sla-tracker explain 48230
    """
    now = _as_of(runtime, as_of)
    report = _one(runtime, ticket_id, now)
    fingerprint = settings_fingerprint(runtime.settings)
    click.echo(explanation_text(report, runtime.calendar(None), now=now, fingerprint=fingerprint))


@cli.command("classify")
@click.argument("ticket_id", type=int)
@click.option(
    "--severity", type=click.Choice([s.value for s in Severity if s != Severity.UNCLASSIFIED])
)
@click.option("--gtr-object", type=click.Choice([g.value for g in GtrObject]))
@click.option(
    "--external/--no-external", default=None, help="Data linked to an external tool (C9)."
)
@click.option("--non-standard/--standard", default=None, help="Non-standard fields involved (C9).")
@click.option("--reason", required=True, help="Why: kept with the decision.")
@click.option("--by", default=getpass.getuser, help="Who decides (default: the current user).")
@click.pass_obj
def classify_command(
    runtime: Runtime, ticket_id: int, severity: str | None, gtr_object: str | None,
    external: bool | None, non_standard: bool | None, reason: str, by: str,
) -> None:  # fmt: skip
    """Record a person's classification; it beats every rule and is kept forever.

    \b
    Example:
        sla-tracker classify 48230 --severity blocking --gtr-object invoice \\
            --reason "Invoices cannot be created for any user" --by alice
    """
    given = {"severity": severity, "gtr_object": gtr_object, "external_link": external,
             "non_standard_fields": non_standard}  # fmt: skip
    values = {key: value for key, value in given.items() if value is not None}
    record_classification(runtime.engine, ticket_id, values, by=by, reason=reason, now=runtime.now)
    click.echo(
        f"Ticket {ticket_id}: recorded {', '.join(f'{k}={v}' for k, v in values.items())} by {by}"
    )


@cli.command("exclude")
@click.argument("ticket_id", type=int)
@click.option("--reason", required=True, type=click.Choice(EXCLUSION_REASONS), help="C11 cause.")
@click.option("--note", required=True, help="What happened, for the record.")
@click.option(
    "--from", "starts_at", callback=_optional_instant, help="Start of the excluded interval."
)
@click.option("--to", "ends_at", callback=_optional_instant, help="End of the excluded interval.")
@click.option("--by", default=getpass.getuser, help="Who decides (default: the current user).")
@click.pass_obj
def exclude_command(
    runtime: Runtime, ticket_id: int, reason: str, note: str,
    starts_at: datetime | None, ends_at: datetime | None, by: str,
) -> None:  # fmt: skip
    """Record a C11 exclusion on a ticket, or on an interval of it.

    \b
    Example:
        sla-tracker exclude 48230 --reason network_failure --note "Customer's VPN down" \\
            --from 2026-11-27T09:00:00+01:00 --to 2026-11-27T14:00:00+01:00
    """
    record_exclusion(runtime.engine, ticket_id, reason=reason, note=note, by=by,
                     now=runtime.now, starts_at=starts_at, ends_at=ends_at)  # fmt: skip
    scope = "whole ticket"
    if starts_at is not None and ends_at is not None:
        scope = f"{format_instant(starts_at)} → {format_instant(ends_at)}"
    click.echo(f"Ticket {ticket_id}: excluded ({reason}, {scope}) by {by}")


@cli.command("unexclude")
@click.argument("ticket_id", type=int)
@click.option("--reason", required=True, help="Why the exclusion no longer holds.")
@click.option("--by", default=getpass.getuser, help="Who decides (default: the current user).")
@click.pass_obj
def unexclude_command(runtime: Runtime, ticket_id: int, reason: str, by: str) -> None:
    """Lift a ticket's exclusions (they stay on record).

    \b
    Example:
        sla-tracker unexclude 48230 --reason "The outage was on our side"
    """
    revoke_exclusions(runtime.engine, ticket_id, reason=reason, by=by, now=runtime.now)
    click.echo(f"Ticket {ticket_id}: exclusions lifted by {by}")


@cli.group()
def contracts() -> None:
    """Customer contracts: fee, period, start; fee changes at renewals."""


@contracts.command("set")
@click.argument("company_id", type=int)
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
@click.option("--by", default=getpass.getuser, help="Who records it (default: the current user).")
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
    terms = ContractTerms(
        company_id, parse_fee(fee), period, start_on.date(),
        effective.date() if effective else None, currency, tacit_renewal,
        terminated.date() if terminated else None,
    )  # fmt: skip
    record_contract(runtime.engine, terms, by=by, now=runtime.now)
    click.echo(
        f"Company {company_id}: {terms.fee} {currency} {period} "
        f"from {terms.effective_on or terms.start_on}"
    )


@contracts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def contracts_list(runtime: Runtime, as_json: bool) -> None:
    """The contracts on record, with every fee version.

    \b
    Example:
        sla-tracker contracts list --json
    """
    data = [contract_json(contract) for contract in load_contracts(runtime.engine).values()]
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for item in data:
        fees = ", ".join(f"{fee['fee']} from {fee['effective']}" for fee in item["fees"])
        click.echo(f"{item['company_id']}: {item['period']} from {item['start']}, {fees}")


@contracts.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", default=getpass.getuser, help="Who records them (default: the current user).")
@click.pass_obj
def contracts_import(runtime: Runtime, path: Path, by: str) -> None:
    """Import contracts from CSV, all or nothing.

    Columns: company_id, fee, period, start, and optionally effective, currency,
    tacit_renewal, terminated. A bad row is reported with its line number.

    \b
    Example:
        sla-tracker contracts import contracts.csv
    """
    count = import_contracts(runtime.engine, path, by=by, now=runtime.now)
    click.echo(f"Imported {count} contract version(s) from {path}")


def _customer_lines(runtime: Runtime, now: datetime) -> list[CustomerPeriod]:
    return customer_periods(runtime.engine, runtime.settings, runtime.calendar(None),
                            _reports(runtime, now=now), now=now)  # fmt: skip


@cli.command("indemnities")
@click.option("--company", "company_id", type=int, help="Only this Freshdesk company id.")
@click.option(
    "--period", "period_text", help="Subscription periods overlapping 2026, 2026-Q4 or 2026-11."
)
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV.")
@click.pass_obj
def indemnities_command(
    runtime: Runtime, company_id: int | None, period_text: str | None, as_of: datetime | None,
    as_json: bool, as_csv: bool,
) -> None:  # fmt: skip
    """What each customer could claim (C10), per subscription period, capped (C12).

    \b
    Example:
        sla-tracker indemnities --period 2026 --json
    """
    now = _as_of(runtime, as_of)
    lines = _customer_lines(runtime, now)
    window = period_window(period_text, runtime.calendar(None)) if period_text else None
    chosen = [
        line for line in lines
        if (company_id is None or line.company_id == company_id)
        and (window is None or line.amount is None
             or (line.amount.period.start < window[1] and line.amount.period.end > window[0]))
    ]  # fmt: skip
    if not _emitted(chosen, indemnity_json, indemnities_csv, as_json=as_json, as_csv=as_csv):
        render(indemnities_table(chosen, title=f"Indemnities as of {format_instant(now)}"))


@cli.command("exposure")
@click.option("--until", callback=_optional_instant, help="Horizon (default: in 7 days).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def exposure_command(runtime: Runtime, until: datetime | None, as_json: bool) -> None:
    """Money at risk: unrestored GTR tickets as if they stayed so until the horizon.

    \b
    Example:
        sla-tracker exposure --until 2026-12-31T23:59:59+01:00
    """
    horizon = until or default_horizon(runtime.now)
    reports = _reports(runtime, now=runtime.now)
    found = exposure(
        runtime.engine, runtime.settings, runtime.calendar(None), reports,
        now=runtime.now, until=horizon,
    )  # fmt: skip
    if as_json:
        click.echo(json.dumps([exposure_json(item) for item in found], indent=2))
    else:
        render(exposure_table(found, title=f"Exposure until {format_instant(horizon)}"))


@cli.group()
def period() -> None:
    """Subscription periods: freeze their indemnities."""


@period.command("close")
@click.argument("targets", nargs=-1, metavar="(COMPANY_ID|--all) PERIOD")
@click.option("--all", "all_companies", is_flag=True, help="Every customer.")
@click.option("--by", default=getpass.getuser, help="Who closes (default: the current user).")
@click.pass_obj
def period_close(runtime: Runtime, targets: tuple[str, ...], all_companies: bool, by: str) -> None:
    """Freeze the indemnities of subscription periods ending within PERIOD.

    A later change that would alter a closed period shows as an adjustment carried to the
    next open period, never as a silent rewrite.

    \b
    Example:
        sla-tracker period close --all 2026
        sla-tracker period close 103001000001 2026-12
    """
    if len(targets) != (1 if all_companies else 2) or not (all_companies or targets[0].isdigit()):
        raise click.UsageError(
            "give a COMPANY_ID or --all, then the PERIOD (2026, 2026-Q4, 2026-11)"
        )
    period_text = targets[-1]
    company_id = None if all_companies else int(targets[0])
    lines = [line for line in _customer_lines(runtime, runtime.now)
             if all_companies or line.company_id == company_id]  # fmt: skip
    window = period_window(period_text, runtime.calendar(None))
    closed = close_periods(runtime.engine, lines, window=window, by=by, now=runtime.now)
    for line in closed:
        amount = line.amount
        if amount is not None:
            click.echo(f"Closed {line.company_id} {amount.period.label}: {amount.amount:.2f}")
    if not closed:
        click.echo("Nothing to close: no open period with an indemnity ends in " + period_text)


@cli.command("statement")
@click.argument("company_id", type=int)
@click.option("--period", "period_text", required=True, help="2026, 2026-Q4 or 2026-11.")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Default: report.language.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="HTML file to write.",
)
@as_of_option
@click.pass_obj
def statement_command(
    runtime: Runtime,
    company_id: int,
    period_text: str,
    lang: str | None,
    out: Path,
    as_of: datetime | None,
) -> None:
    """Write a customer's indemnity statement (HTML) for a support manager to send.

    \b
    Example:
        sla-tracker statement 103001000001 --period 2026 --lang fr --out releve-2026.html
    """
    now = _as_of(runtime, as_of)
    calendar_ = runtime.calendar(None)
    window = period_window(period_text, calendar_)
    lines = [line for line in _customer_lines(runtime, now) if line.company_id == company_id
             and line.amount is not None and line.amount.period.start < window[1]
             and line.amount.period.end > window[0]]  # fmt: skip
    html = render_statement(lines, company_id=company_id, period_text=period_text,
                            language=lang or runtime.settings.report.language, calendar=calendar_,
                            settings=runtime.settings, now=now)  # fmt: skip
    out.write_text(html, encoding="utf-8")
    click.echo(f"Wrote {out} ({len(lines)} period(s))")


@cli.group()
def report() -> None:
    """Reports for support managers."""


@report.command("weekly")
@click.option("--week", help="ISO week, e.g. 2026-W48 (default: the last complete week).")
@click.option("--lang", type=click.Choice(["fr", "en"]), help="Default: report.language.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the HTML here.")
@click.option("--send", "send_mail", is_flag=True, help="E-mail it to smtp.recipients.")
@click.option("--force", is_flag=True, help="Send even if this week was already sent.")
@click.pass_obj
def report_weekly(
    runtime: Runtime,
    week: str | None,
    lang: str | None,
    out: Path | None,
    send_mail: bool,
    force: bool,
) -> None:
    """The weekly SLA report: compliance, breaches, risks, indemnities, exposure, sync health.

    \b
    Example:
        sla-tracker report weekly --week 2026-W48 --out week-48.html
        sla-tracker report weekly --send
    """
    calendar_ = runtime.calendar(None)
    week = week or previous_week(runtime.now, calendar_)
    built = build_weekly_report(
        runtime.engine, runtime.settings, calendar_, week=week, now=runtime.now
    )
    rendered = render_weekly_report(
        built, language=lang or runtime.settings.report.language, calendar=calendar_
    )
    if out:
        out.write_text(rendered.html, encoding="utf-8")
        click.echo(f"Wrote {out}")
    if send_mail:
        message_id = send_weekly_report(runtime.engine, runtime.settings, rendered, week=week,
                                        now=runtime.now, force=force)  # fmt: skip
        recipients = ", ".join(runtime.settings.smtp.recipients)
        click.echo(f"Sent the report of {week} to {recipients} ({message_id})")
    if not out and not send_mail:
        click.echo(rendered.text)


@cli.command("run")
@click.pass_obj
def run_command(runtime: Runtime) -> None:
    """Run the background service: sync, alerts, reconciliation, weekly report.

    Only one instance is active per database; others wait as standbys and take over when
    it stops or dies. SIGTERM or Ctrl-C lets the running job finish, then stops.

    \b
    Example:
        SLA_TRACKER_FRESHDESK_API_KEY=... sla-tracker --config /etc/sla-tracker.toml run
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for chatty in ("apscheduler", "alembic"):  # our own line per job says what matters
        logging.getLogger(chatty).setLevel(logging.WARNING)
    log = logging.getLogger("sla_tracker.service")
    settings = runtime.settings
    client = FreshdeskClient.from_settings(settings.freshdesk)
    service = Service(settings, runtime.engine, runtime.calendar(None), client, current_instant)
    holder = f"sla-tracker pid {os.getpid()} on {socket.gethostname()}"
    announced: list[bool] = []

    def standby() -> None:
        if not announced:
            log.info(
                "standby: another instance is active (%s); waiting", lock_holder(runtime.engine)
            )
            announced.append(True)

    poll = settings.schedule.standby_poll_seconds
    with service_lock(runtime.engine, holder=holder, poll_seconds=poll, on_standby=standby):
        scheduler = build_scheduler(service)

        def stop(signum: int, _frame: object) -> None:
            log.info(
                "received %s: finishing the running job, then stopping", signal.Signals(signum).name
            )
            scheduler.shutdown(wait=True)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log.info("active: %s; jobs: %s", holder, ", ".join(job.id for job in scheduler.get_jobs()))
        scheduler.start()
    log.info("stopped")


@cli.command("status")
@click.pass_obj
def status_command(runtime: Runtime) -> None:
    """The last sync, the next run of each job and which instance is active.

    \b
    Example:
        sla-tracker status
    """
    runs = table_of(SyncRun)
    with runtime.engine.connect() as connection:
        last = (
            connection.execute(select(runs).order_by(runs.c.id.desc()).limit(1)).mappings().first()
        )
    if last is None:
        click.echo("Last sync: never")
    else:
        outcome = last["outcome"] + (f" ({last['errors']})" if last["errors"] else "")
        click.echo(f"Last sync: {format_instant(last['started_at'])}, {last['mode']}, {outcome}")
    states = table_of(SyncState)
    with runtime.engine.connect() as connection:
        reconciled = connection.execute(
            select(states.c.last_run_at).where(states.c.pass_name == RECONCILE)
        ).scalar()
    settings = runtime.settings
    last_runs: dict[str, datetime | None] = {
        "sync": last["started_at"] if last else None,
        "reconcile": reconciled,
    }
    intervals = {
        "sync": settings.schedule.sync_minutes,
        "reconcile": settings.sync.reconcile_minutes,
    }
    for name, trigger in triggers(settings).items():
        previous = last_runs.get(name)
        upcoming: datetime | None
        if previous is not None:  # interval jobs: due an interval after their last run
            upcoming = max(runtime.now, previous + timedelta(minutes=intervals[name]))
        else:
            upcoming = trigger.get_next_fire_time(None, runtime.now)
        click.echo(f"Next {name}: {format_instant(upcoming) if upcoming else 'never'}")
    click.echo(f"Active instance: {lock_holder(runtime.engine) or 'none running'}")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(runtime: Runtime) -> None:
    """Apply pending migrations (they also run automatically on first use).

    \b
    Example:
        sla-tracker db upgrade
    """
    upgrade(runtime.engine)
    click.echo(f"Database schema is up to date: {runtime.engine.url.render_as_string()}")


@cli.group()
def simulator() -> None:
    """The bundled Freshdesk simulator."""


@simulator.command("serve")
@click.option("--port", default=8765, show_default=True, help="Loopback port (0: any free one).")
@click.option("--seed", default=2026, show_default=True, help="Dataset seed.")
@click.option("--tickets", default=2000, show_default=True, help="Tickets before now.")
@click.option("--api-key", default="sim-key", show_default=True, help="Accepted API key.")
@click.option("--credits-per-minute", type=int, help="Rate limit (default: none).")
@click.pass_obj
def simulator_serve(
    runtime: Runtime,
    port: int,
    seed: int,
    tickets: int,
    api_key: str,
    credits_per_minute: int | None,
) -> None:
    """Serve a seeded Freshdesk account on 127.0.0.1 until interrupted.

    \b
    Example:
        sla-tracker simulator serve --port 8765 --tickets 5000
    """
    state = make_state(seed=seed, tickets=tickets, now=runtime.now, api_key=api_key,
                       credits_per_minute=credits_per_minute)  # fmt: skip
    server = SimulatorHTTPServer(state, port)
    click.echo(f"Freshdesk simulator on {server.base_url} (API key {api_key!r}); Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()


@cli.command()
@click.option(
    "--tickets", default=2000, show_default=True, help="Tickets in the simulated account."
)
@click.option("--seed", default=2026, show_default=True, help="Dataset seed.")
@click.option(
    "--dir", "directory", default="demo", show_default=True, type=click.Path(file_okay=False)
)
@click.pass_obj
def demo(runtime: Runtime, tickets: int, seed: int, directory: str) -> None:
    """Run the pipeline end to end on the bundled simulator: no credentials, no network.

    Starts the Freshdesk simulator on a free loopback port, writes DIR/sla-tracker.toml,
    syncs into a fresh SQLite database DIR/sla-tracker.db and shows what happened.

    \b
    Example:
        sla-tracker demo --tickets 5000
    """
    folder = Path(directory).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "sla-tracker.db"
    for leftover in folder.glob("sla-tracker.db*"):
        leftover.unlink()
    state = make_state(seed=seed, tickets=tickets, now=runtime.now)
    with Simulator(state) as sim:
        config_path = folder / "sla-tracker.toml"
        config_path.write_text(demo_config(sim.url, database, runtime.now), encoding="utf-8")
        runtime.config_path = str(config_path)
        click.echo(
            f"Freshdesk simulator: {sim.url} — {tickets:,} tickets over 6 months (seed {seed})"
        )
        click.echo(f"Config: {config_path}")
        client = FreshdeskClient.from_settings(runtime.settings.freshdesk)
        click.echo("First sync (backfill): " + _sync(runtime, client).summary())
        again = _sync(runtime, client)
        click.echo(
            f"Second sync, nothing changed: {again.api_calls} API call(s), {again.credits} credits"
        )
        state.advance(86400)
        next_day = runtime.now + timedelta(days=1)
        later = sync_once(client, runtime.engine, runtime.settings, now=next_day)
        click.echo("A day later, the account has moved on: " + later.summary())
    _demo_clocks(runtime, next_day)
    _demo_money(runtime, next_day)
    _demo_report_and_alerts(runtime, next_day, folder)
    click.echo(f"Database: {database}")
    click.echo(f"Explore: sla-tracker --config {config_path} check-config")


def _demo_clocks(runtime: Runtime, now: datetime) -> None:
    reports = _reports(runtime, now=now)
    threshold = min(runtime.settings.alerts.thresholds, default=100) / 100
    restored = set(runtime.settings.restoration.restored_statuses)
    open_reports = [report for report in reports if report.row["status"] not in restored]
    at_risk = [report for report in open_reports if is_at_risk(report, threshold)]
    breached = [report for report in reports if is_breached(report)]
    still_open = [report for report in breached if report.row["status"] not in restored]
    review = [report for report in reports if report.needs_review]
    click.echo(
        f"Clocks as of {format_instant(now)}: {len(at_risk)} open ticket(s) at risk, "
        f"{len(breached)} with a breached clock ({len(still_open)} still open), "
        f"{len(review)} to review"
    )
    unique = {report.id: report for report in at_risk + still_open}
    urgent = sorted(unique.values(), key=urgency)
    render(
        tickets_table(urgent[:20], title="At risk and breached, open tickets (most urgent first)")
    )


def _demo_money(runtime: Runtime, now: datetime) -> None:
    """Contracts from the simulated companies' own fields, then what they could claim."""
    companies = table_of(Company)
    with runtime.engine.connect() as connection:
        rows = connection.execute(select(companies.c.id, companies.c.custom_fields)).all()
    for company_id, fields in rows:
        fee, period = (fields or {}).get("montant_ht"), (fields or {}).get("abonnement")
        if fee and period in ("monthly", "annual", "two_years"):
            terms = ContractTerms(company_id, parse_fee(str(fee)), period, date(now.year, 1, 1))
            record_contract(runtime.engine, terms, by="demo", now=now)
    reports = _reports(runtime, now=now)
    lines = customer_periods(
        runtime.engine, runtime.settings, runtime.calendar(None), reports, now=now
    )
    click.echo(
        f"Contracts recorded for {len(rows)} simulated customers (fee and period from Freshdesk)"
    )
    render(indemnities_table(lines, title="Indemnities per customer and period (C10, C12)"))
    horizon = default_horizon(now)
    found = exposure(
        runtime.engine, runtime.settings, runtime.calendar(None), reports, now=now, until=horizon
    )
    render(exposure_table(found, title=f"Exposure until {format_instant(horizon)}"))


def _demo_report_and_alerts(runtime: Runtime, now: datetime, folder: Path) -> None:
    """The weekly report and the alerts the service would send, written as files."""
    calendar_ = runtime.calendar(None)
    week = previous_week(now, calendar_)
    built = build_weekly_report(runtime.engine, runtime.settings, calendar_, week=week, now=now)
    language = runtime.settings.report.language
    report_path = folder / "weekly-report.html"
    report_path.write_text(
        render_weekly_report(built, language=language, calendar=calendar_).html, encoding="utf-8"
    )
    events = due_events(_reports(runtime, now=now), runtime.settings.alerts.thresholds)
    rendered = [render_alert(event, language) for event in events]
    alerts_path = folder / "alerts.txt"
    texts = [f"Subject: {alert.subject}\n\n{alert.text.strip()}" for alert in rendered]
    alerts_path.write_text("\n\n".join(texts) + "\n", encoding="utf-8")
    click.echo(f"Weekly report of {week}: {report_path}")
    click.echo(f"Alerts the service would send now ({len(rendered)}): {alerts_path}")


def demo_config(base_url: str, database: Path, now: datetime) -> str:
    start = (now - timedelta(days=200)).date().isoformat()
    return f"""# Written by `sla-tracker demo`: the bundled simulator, no real credentials.
[freshdesk]
base_url = "{base_url}"
api_key = "sim-key"          # the simulator's key, not a secret
calls_per_minute = 100000    # the simulator has no rate limit by default

[sync]
start_date = {start}

[database]
url = "sqlite:///{database}"

[pause]
statuses = [3, 6]            # Pending and the custom "Waiting on Customer"
"""


def _hours_to_seconds(text: str) -> int:
    try:
        seconds = Decimal(text) * 3600
    except InvalidOperation:
        raise click.BadParameter(f"{text!r} is not a number of hours (e.g. 2 or 0.5)") from None
    if seconds < 0 or seconds != seconds.to_integral_value():
        raise click.BadParameter(f"{text!r} must be a non-negative number of whole seconds")
    return int(seconds)


def main() -> None:  # pragma: no cover - `python -m sla_tracker`
    cli(prog_name="sla-tracker", args=sys.argv[1:])

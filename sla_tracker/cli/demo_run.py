"""What `sla-tracker demo` runs: the whole pipeline on the bundled simulator."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import click
import tomli_w

from sla_tracker.alerts import due_events
from sla_tracker.cli.base import Runtime, _reports, _sync, is_at_risk, is_breached
from sla_tracker.core.instants import format_instant
from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
from sla_tracker.helpdesk.freshdesk.simulator.server import Simulator, make_state
from sla_tracker.money import (
    ContractTerms,
    customer_periods,
    default_horizon,
    exposure,
    parse_fee,
    record_contract,
)
from sla_tracker.present.emails import render_alerts, render_weekly_report
from sla_tracker.present.money import exposure_table, indemnities_table
from sla_tracker.present.output import render
from sla_tracker.present.tickets import tickets_table, urgency
from sla_tracker.reports.weekly import build_weekly_report, previous_week
from sla_tracker.storage.audit import status_names
from sla_tracker.storage.companies import company_custom_fields
from sla_tracker.storage.engine import owner_only, sqlite_url
from sla_tracker.sync import sync_once


def run_demo(runtime: Runtime, *, tickets: int, seed: int, directory: str) -> None:
    """The demo's work, imported when ``demo`` runs (it needs the whole stack)."""
    folder = Path(directory).resolve()
    _claim(folder)
    database = folder / "sla-tracker.db"
    for leftover in folder.glob("sla-tracker.db*"):  # the demo's own, from an earlier run
        leftover.unlink()
    state = make_state(seed=seed, tickets=tickets, now=runtime.now)
    with Simulator(state) as sim:
        config_path = folder / "sla-tracker.toml"
        with open(config_path, "w", encoding="utf-8", opener=owner_only) as config:
            config.write(demo_config(sim.url, database, runtime.now))
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
    open_reports = [report for report in reports if report.open]
    at_risk = [report for report in open_reports if is_at_risk(report, threshold)]
    breached = [report for report in reports if is_breached(report)]
    still_open = [report for report in breached if report.open]
    review = [report for report in reports if report.needs_review]
    click.echo(
        f"Clocks as of {format_instant(now)}: {len(at_risk)} open ticket(s) at risk, "
        f"{len(breached)} with a breached clock ({len(still_open)} still open), "
        f"{len(review)} to review"
    )
    unique = {report.id: report for report in at_risk + still_open}
    urgent = sorted(unique.values(), key=urgency)
    render(
        tickets_table(urgent[:20], title="At risk and breached, open tickets (most urgent first)",
                      now=now, threshold=threshold, statuses=status_names(runtime.engine))
    )  # fmt: skip


def _demo_money(runtime: Runtime, now: datetime) -> None:
    """Contracts from the simulated companies' own fields, then what they could claim."""
    rows = company_custom_fields(runtime.engine)
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
    digest = render_alerts(events, language=language, zone=calendar_.zone, now=now,
                           freshdesk=runtime.settings.freshdesk)  # fmt: skip
    alerts_path = folder / "alerts.txt"
    alerts_path.write_text(f"Subject: {digest.subject}\n\n{digest.text.strip()}\n", "utf-8")
    click.echo(f"Weekly report of {week}: {report_path}")
    click.echo(f"Alerts the service would send now ({len(events)}, one digest): {alerts_path}")


MARKER = ".sla-tracker-demo"
# What the demo writes in its folder (and the SQLite files beside the database).
DEMO_FILES = ("sla-tracker.db", "sla-tracker.toml", "weekly-report.html", "alerts.txt")


def _claim(folder: Path) -> None:
    """Make ``folder`` the demo's own, refusing one that holds files the demo did not write:
    the database and config names are the production defaults, never to be replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / MARKER
    if not marker.exists():
        foreign = sorted(
            path.name
            for path in folder.iterdir()
            if path.name in DEMO_FILES or path.name.startswith("sla-tracker.db")
        )
        if foreign:
            raise click.ClickException(
                f"{folder} holds {', '.join(foreign)}, which the demo did not create (no "
                f"{MARKER} there); it never replaces them. Run it in a folder of its own: "
                "sla-tracker demo --dir NEW_FOLDER (the default is ./demo)"
            )
        marker.write_text(
            "Written by `sla-tracker demo`: everything here is demo output, and the demo may "
            "overwrite it.\n",
            encoding="utf-8",
        )


def demo_config(base_url: str, database: Path, now: datetime) -> str:
    """The demo's config; a TOML writer and ``sqlite_url`` keep any folder name valid."""
    settings = {
        "freshdesk": {"base_url": base_url, "api_key": "sim-key", "calls_per_minute": 100_000},
        "sync": {"start_date": (now - timedelta(days=200)).date()},
        "database": {"url": sqlite_url(database)},
        "pause": {"statuses": [3, 6]},
    }
    return (
        "# Written by `sla-tracker demo`: the bundled simulator, no real credentials.\n"
        "# freshdesk.api_key is the simulator's key, not a secret; the simulator has no rate\n"
        '# limit by default; pause.statuses: Pending and the custom "Waiting on Customer".\n\n'
    ) + tomli_w.dumps(settings)

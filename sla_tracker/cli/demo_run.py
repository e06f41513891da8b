"""What `sla-tracker demo` runs: the whole pipeline on the bundled simulator."""

from __future__ import annotations

import shlex
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
import tomli_w

from sla_tracker.alerts import due_events
from sla_tracker.cli.base import Runtime, _reports, _sync, is_at_risk, is_breached, local_time
from sla_tracker.helpdesk.freshdesk.client import FreshdeskClient
from sla_tracker.helpdesk.freshdesk.simulator.server import Simulator, make_state
from sla_tracker.judgments import listing_threshold
from sla_tracker.money import (
    ContractTerms,
    customer_periods,
    default_horizon,
    exposure,
    parse_fee,
    record_contract,
)
from sla_tracker.present.emails import render_alerts, render_weekly_report
from sla_tracker.present.money_tables import exposure_table, indemnities_table
from sla_tracker.present.output import render
from sla_tracker.present.tickets import tickets_table, urgency
from sla_tracker.reports.weekly import build_weekly_report, previous_week
from sla_tracker.storage.audit import status_names
from sla_tracker.storage.companies import company_custom_fields
from sla_tracker.storage.engine import owner_only, sqlite_url
from sla_tracker.storage.judging import company_names
from sla_tracker.storage.reports import team_names
from sla_tracker.sync import sync_once

if TYPE_CHECKING:
    from sla_tracker.helpdesk.freshdesk.simulator.server import SimulatorState


def run_demo(runtime: Runtime, *, tickets: int, seed: int, directory: str, serve: bool) -> None:
    """The demo's work, imported when ``demo`` runs (it needs the whole stack).

    The simulated history ends at the real "now": the account is polled as it stood a day
    ago (backfill, then a poll that finds nothing new), then a day later, now. Nothing is
    recorded in the future, so the commands it prints answer as it did."""
    folder = Path(directory).resolve()
    _claim(folder)
    database = folder / "sla-tracker.db"
    for leftover in folder.glob("sla-tracker.db*"):  # the demo's own, from an earlier run
        leftover.unlink()
    now = runtime.now
    yesterday = now - timedelta(days=1)
    state = make_state(seed=seed, tickets=tickets, now=yesterday)
    with Simulator(state) as sim:
        config_path = folder / "sla-tracker.toml"
        with open(config_path, "w", encoding="utf-8", opener=owner_only) as config:
            config.write(demo_config(sim.url, database, now))
        runtime.config_path = str(config_path)
        click.echo(
            f"Freshdesk simulator: {sim.url} — {tickets:,} tickets over 6 months (seed {seed})"
        )
        click.echo(f"Config: {config_path}")
        client = FreshdeskClient.from_settings(runtime.settings.freshdesk)
        first = sync_once(client, runtime.engine, runtime.settings, now=yesterday)
        click.echo(f"A day ago, first sync (backfill): {first.summary()}")
        again = sync_once(client, runtime.engine, runtime.settings, now=yesterday)
        click.echo(
            f"Polled again, nothing changed: {again.api_calls} API call(s), {again.credits} credits"
        )
        state.set_clock(int(now.timestamp()))
        click.echo("Now, the account has moved on: " + _sync(runtime, client).summary())
        urgent = _demo_clocks(runtime, now)
        _demo_money(runtime, now)
        week = _demo_report_and_alerts(runtime, now, folder)
        click.echo(f"Database: {database}")
        commands = _try_commands(config_path, urgent, week)
        if not serve:
            click.echo("Try these (they answer as the demo did; `demo --serve` also keeps the "
                       "simulator running for sync and run):")  # fmt: skip
            click.echo("\n".join(commands))
            return
        from sla_tracker.cli.web_command import board_for_the_demo

        with board_for_the_demo(runtime, client, state) as board:
            click.echo(f"The simulator keeps running on {sim.url}, its clock following yours; "
                       f"its changes reach the web board on {board}/ by webhook. Ctrl-C stops "
                       "it, and the board. In another terminal:")  # fmt: skip
            click.echo("\n".join([*commands, _command(config_path, "sync"),
                                  _command(config_path, "run")]))  # fmt: skip
            _follow_the_clock(state)


def _follow_the_clock(state: SimulatorState) -> None:
    """Move the simulated account with the wall clock (tickets keep changing) until Ctrl-C."""
    started, origin = time.monotonic(), state.now
    try:
        while True:
            time.sleep(1)
            state.set_clock(origin + int(time.monotonic() - started))
    except KeyboardInterrupt:
        click.echo("Simulator stopped")


def _command(config_path: Path, *args: str) -> str:
    return "  " + shlex.join(["sla-tracker", "--config", str(config_path), *args])


def _try_commands(config_path: Path, ticket_id: int | None, week: str) -> list[str]:
    """Read commands on the demo database, quoted to work as printed."""
    one = [] if ticket_id is None else [("ticket", str(ticket_id)), ("explain", str(ticket_id))]
    return [
        _command(config_path, *args)
        for args in [("tickets", "--open", "--at-risk"), *one, ("indemnities",), ("exposure",),
                     ("contracts", "list"), ("report", "weekly", "--week", week), ("status",)]
    ]  # fmt: skip


def _demo_clocks(runtime: Runtime, now: datetime) -> int | None:
    """The clocks now, the most urgent open tickets first; returns a ticket to look at."""
    reports = _reports(runtime, now=now)
    threshold = listing_threshold(runtime.settings)
    open_reports = [report for report in reports if report.open]
    at_risk = [report for report in open_reports if is_at_risk(report, threshold)]
    breached = [report for report in reports if is_breached(report)]
    still_open = [report for report in breached if report.open]
    review = [report for report in reports if report.needs_review]
    click.echo(
        f"Clocks as of {local_time(runtime, now)}: {len(at_risk)} open ticket(s) at risk, "
        f"{len(breached)} with a breached clock ({len(still_open)} still open), "
        f"{len(review)} to review"
    )
    unique = {report.id: report for report in at_risk + still_open}
    urgent = sorted(unique.values(), key=urgency)
    render(
        tickets_table(urgent[:20], title="At risk and breached, open tickets (most urgent first)",
                      now=now, threshold=threshold, statuses=status_names(runtime.engine))
    )  # fmt: skip
    shown = urgent or sorted(breached, key=urgency) or reports  # a ticket worth opening
    return shown[0].id if shown else None


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
    chosen = [line for line in lines if line.amount is not None and line.shown_amount]
    render(indemnities_table(chosen, title="Indemnities owed per customer and period (C10, C12)"))
    horizon = default_horizon(now)
    found = exposure(
        runtime.engine, runtime.settings, runtime.calendar(None), reports, now=now, until=horizon
    )
    with runtime.engine.connect() as connection:
        names = company_names(connection)
    render(exposure_table(found, title=f"Exposure until {local_time(runtime, horizon)}",
                          names=names, zone=runtime.calendar(None).zone, now=now))  # fmt: skip


def _demo_report_and_alerts(runtime: Runtime, now: datetime, folder: Path) -> str:
    """The weekly report and the alerts the service would send, written as files; returns
    the report's week."""
    calendar_ = runtime.calendar(None)
    week = previous_week(now, calendar_)
    built = build_weekly_report(runtime.engine, runtime.settings, calendar_, week=week, now=now)
    language = runtime.settings.report.language
    report_path = folder / "weekly-report.html"
    report_path.write_text(
        render_weekly_report(built, language=language, calendar=calendar_).html, encoding="utf-8"
    )
    events = due_events(_reports(runtime, now=now), runtime.settings.alerts.thresholds)
    groups, agents = team_names(runtime.engine)
    digest = render_alerts(events, language=language, zone=calendar_.zone, now=now,
                           freshdesk=runtime.settings.freshdesk, groups=groups,
                           agents=agents)  # fmt: skip
    alerts_path = folder / "alerts.txt"
    alerts_path.write_text(f"Subject: {digest.subject}\n\n{digest.text.strip()}\n", "utf-8")
    click.echo(f"Weekly report of {week}: {report_path}")
    click.echo(f"Alerts the service would send now ({len(events)}, one digest): {alerts_path}")
    return week


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

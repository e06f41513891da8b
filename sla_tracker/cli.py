"""The ``sla-tracker`` command line: thin commands over the library.

The current instant is read once here (``$SLA_TRACKER_NOW`` overrides it) and passed down;
settings are loaded lazily so that ``--help`` works even with a broken config file.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sla_tracker import __version__
from sla_tracker.calendars import available_calendars, load_named_calendar
from sla_tracker.config import (
    ConfigError,
    Settings,
    current_instant,
    find_config_file,
    load_settings,
)
from sla_tracker.core.calendar import BusinessCalendar, CalendarError
from sla_tracker.core.instants import format_instant, parse_instant
from sla_tracker.freshdesk import FreshdeskClient, FreshdeskError
from sla_tracker.simulator.server import Simulator, SimulatorHTTPServer, make_state
from sla_tracker.storage import StoreError, open_store, upgrade
from sla_tracker.sync import SyncError, SyncReport, sync_once
from sla_tracker.views import calendar_ics, month_table, render, sync_progress

if TYPE_CHECKING:
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
        except (ConfigError, CalendarError, StoreError, FreshdeskError, SyncError) as error:
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
        state.advance(3600)
        later = sync_once(
            client, runtime.engine, runtime.settings, now=runtime.now + timedelta(hours=1)
        )
        click.echo("One hour later: " + later.summary())
    click.echo(f"Database: {database}")
    click.echo(f"Explore: sla-tracker --config {config_path} check-config")


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

"""Business-time calculator commands: between, deadline, show, ics, list."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, DecimalException
from pathlib import Path

import click

from sla_tracker.cli.base import Runtime, _instant, calendar_option, json_option, write_file
from sla_tracker.core.instants import format_instant


@click.group()
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
    from sla_tracker.present.output import month_table, render

    render(month_table(runtime.calendar(calendar_name), year, month_number))


@calendar.command("ics")
@click.argument("year", type=click.IntRange(1900, 2999))
@calendar_option
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: stdout).",
)
@click.pass_obj
def calendar_ics_command(
    runtime: Runtime, year: int, calendar_name: str | None, out: Path | None
) -> None:
    """The year's closures (holidays, extra closed days) as iCalendar.

    \b
    Example:
        sla-tracker calendar ics 2026 --out fermetures-2026.ics
    """
    from sla_tracker.present.output import calendar_ics

    ics = calendar_ics(runtime.calendar(calendar_name), year, now=runtime.now)
    if out is None:
        click.echo(ics, nl=False)
    else:
        write_file(out, ics)


@calendar.command("list")
@click.pass_obj
def calendar_list(runtime: Runtime) -> None:
    """Calendars that can be selected by name.

    \b
    Example:
        sla-tracker calendar list
    """
    from sla_tracker.calendar_files import available_calendars

    for name in available_calendars(runtime.settings):
        click.echo(name)


def _hours_to_seconds(text: str) -> int:
    try:
        seconds = Decimal(text) * 3600  # NaN, Infinity and 1e999999 signal, or fail is_finite
    except DecimalException:
        seconds = Decimal("NaN")
    if not seconds.is_finite():
        raise click.BadParameter(f"{text!r} is not a number of hours (e.g. 2 or 0.5)")
    if seconds < 0 or seconds != seconds.to_integral_value():
        raise click.BadParameter(f"{text!r} must be a non-negative number of whole seconds")
    return int(seconds)

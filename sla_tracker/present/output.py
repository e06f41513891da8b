"""Presentation for the CLI: rich tables on a terminal, plain text in a pipe, iCalendar."""

from __future__ import annotations

import calendar as month_calendar
import contextlib
import csv
import io
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from icalendar import Calendar, Event
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sla_tracker import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from sla_tracker.core.calendar import BusinessCalendar


@contextlib.contextmanager
def sync_progress() -> Iterator[Callable[[int], None]]:
    """A live ticket counter on a terminal; silence in a pipe or a log."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda _count: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("syncing tickets…", total=None)
        yield lambda count: progress.update(task, description=f"syncing tickets… {count:,}")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """OWASP CSV injection: a text cell a spreadsheet would run as a formula (a subject
    ``=HYPERLINK(…)``) gets a leading quote; numbers stay numbers, negative ones too."""
    return "'" + cell if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) else cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document: the header, then the rows (the listings' ``--csv``), safe to open in
    a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def render(renderable: Table) -> None:
    console = Console(highlight=False)
    if not console.is_terminal:  # a pipe or a file: do not squeeze tables into 80 columns
        console = Console(highlight=False, width=200)
    console.print(renderable)


def month_table(cal: BusinessCalendar, year: int, month: int) -> Table:
    """One row per day: its windows in local time, or why it is closed."""
    table = Table(title=f"{cal.name} — {year}-{month:02d} ({cal.timezone})")
    table.add_column("date")
    table.add_column("day")
    table.add_column("open (local time)")
    table.add_column("business hours", justify="right")
    total_seconds = 0
    for day_number in range(1, month_calendar.monthrange(year, month)[1] + 1):
        schedule = cal.day_schedule(date(year, month, day_number))
        seconds = sum(window.seconds for window in schedule.windows)
        total_seconds += seconds
        if schedule.closed_because:
            opening = f"[red]closed — {schedule.closed_because}[/red]"
        elif schedule.windows:
            opening = ", ".join(str(window) for window in schedule.windows)
        else:
            opening = "[dim]closed[/dim]"
        table.add_row(
            schedule.day.isoformat(),
            schedule.day.strftime("%a"),
            opening,
            _hours(seconds) if seconds else "",
        )
    table.add_section()
    table.add_row("total", "", "", _hours(total_seconds))
    return table


def _hours(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h" if not rest else f"{hours} h {rest // 60:02d}"


def calendar_ics(cal: BusinessCalendar, year: int, *, now: datetime) -> bytes:
    """Closures of a year (holidays and extra closed days) as all-day iCalendar events."""
    ics = Calendar()
    ics.add("prodid", f"-//sla-tracker {__version__}//{cal.name}//FR")
    ics.add("version", "2.0")
    ics.add("x-wr-calname", f"{cal.name} — fermetures {year}")
    ics.add("x-wr-timezone", cal.timezone)
    day = date(year, 1, 1)
    while day.year == year:
        reason = cal.day_schedule(day).closed_because
        if reason:
            event = Event()
            event.add("uid", f"{day.isoformat()}-{cal.name}@sla-tracker")
            event.add("dtstamp", now)
            event.add("dtstart", day)
            event.add("dtend", day + timedelta(days=1))
            event.add("summary", reason)
            event.add("transp", "TRANSPARENT")
            ics.add_component(event)
        day += timedelta(days=1)
    return bytes(ics.to_ical())

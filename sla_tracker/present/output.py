"""Presentation for the CLI: tables that fit the terminal, plain text in a pipe, iCalendar."""

from __future__ import annotations

import calendar as month_calendar
import contextlib
import csv
import io
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from icalendar import Calendar, Event
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from sla_tracker import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from rich.console import ConsoleOptions, JustifyMethod, RenderableType, RenderResult

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


@contextlib.contextmanager
def judgment_progress() -> Iterator[Callable[[int, int], None]]:
    """A progress bar of tickets judged on a terminal (on stderr); silence in a pipe or a log."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda _done, _total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("judging tickets", total=None)
        yield lambda done, total: progress.update(task, completed=done, total=total)


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


def render(renderable: RenderableType) -> None:
    """Print at the terminal's width (or ``$COLUMNS``); a pipe or a file without ``$COLUMNS``
    gets 200 columns rather than tables squeezed into 80."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(highlight=False, width=200)
    console.print(renderable)


Cell = str | Text
GAP = 3  # between two columns: padding, a blank rule, padding
# No frame: a rule under the header and one above the totals (a section's "row" line).
RULES = box.Box("    \n    \n ── \n    \n ── \n    \n    \n    \n")
NARROWEST = 6  # a shortened column keeps at least this many characters


@dataclass(frozen=True)
class Column:
    header: str
    flexible: bool = False  # shortened with "…" to fit; the others are never cut
    justify: JustifyMethod = "left"


@dataclass
class FittedTable:
    """A table drawn at the width it is given: the fixed columns (ids, states, times,
    amounts) keep their full width, the flexible ones (names, subjects) share what is left
    and end in "…" when they must. A rich renderable, so ``render`` draws it to fit."""

    title: str
    columns: Sequence[Column]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    totals: Sequence[Cell] | None = None
    caption: str | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)

    def table(self, width: int) -> Table:
        """The rich table at ``width`` columns."""
        rows = [*self.rows, *([self.totals] if self.totals else [])]
        natural = [
            max([len(column.header), *(_text(row[index]).cell_len for row in rows)])
            for index, column in enumerate(self.columns)
        ]
        widths = self._share(natural, width - GAP * (len(self.columns) - 1))
        table = Table(title=self.title, caption=self.caption, box=RULES,
                      show_edge=False, pad_edge=False, title_justify="left",
                      caption_justify="left")  # fmt: skip
        for column, size in zip(self.columns, widths, strict=True):
            table.add_column(column.header, justify=column.justify, width=size, no_wrap=True,
                             overflow="ellipsis")  # fmt: skip
        for row in self.rows:
            table.add_row(*map(_text, row))
        if self.totals:
            table.add_section()
            table.add_row(*map(_text, self.totals), style="bold")
        return table

    def _share(self, natural: list[int], room: int) -> list[int]:
        """Fixed columns at their natural width; the flexible ones, narrowest first, each
        up to its natural width or its fair share of the room left."""
        widths = list(natural)
        flexible = sorted((natural[i], i) for i, c in enumerate(self.columns) if c.flexible)
        left = room - sum(n for n, c in zip(natural, self.columns, strict=True) if not c.flexible)
        for count, (wanted, index) in enumerate(flexible):
            widths[index] = max(NARROWEST, min(wanted, left // (len(flexible) - count)))
            left -= widths[index]
        return widths


def _text(cell: Cell) -> Text:
    """A cell as text, never read as markup: a subject "[urgent]" stays as written."""
    return Text(cell) if isinstance(cell, str) else cell


def month_table(cal: BusinessCalendar, year: int, month: int) -> FittedTable:
    """One row per day: its windows in local time, or why it is closed."""
    table = FittedTable(
        f"{cal.name} — {year}-{month:02d} ({cal.timezone})",
        [Column("date"), Column("day"), Column("open (local time)", flexible=True),
         Column("business hours", justify="right")],
    )  # fmt: skip
    total_seconds = 0
    for day_number in range(1, month_calendar.monthrange(year, month)[1] + 1):
        schedule = cal.day_schedule(date(year, month, day_number))
        seconds = sum(window.seconds for window in schedule.windows)
        total_seconds += seconds
        if schedule.closed_because:
            opening = Text(f"closed — {schedule.closed_because}", style="red")
        elif schedule.windows:
            opening = Text(", ".join(str(window) for window in schedule.windows))
        else:
            opening = Text("closed", style="dim")
        table.rows.append(
            [schedule.day.isoformat(), schedule.day.strftime("%a"), opening,
             _hours(seconds) if seconds else ""]
        )  # fmt: skip
    table.totals = ["total", "", "", _hours(total_seconds)]
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

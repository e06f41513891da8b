"""``tickets``: a listing read from the kept judgments, streamed for JSON and CSV, cut to
the screen on a terminal; ``--as-of`` judges every ticket from history instead."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import datetime

    from sla_tracker.cli.base import Runtime
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.judgments import Judgments
    from sla_tracker.storage.judgments import Filters

TABLE_CHROME = 8  # lines around a table's rows: title, header, rules, the "more" line, prompt
BATCH = 500  # rows rendered and written at a time when streaming JSON or CSV


@dataclass
class Listing:
    """What ``tickets`` was asked for, and where the answer comes from."""

    runtime: Runtime
    now: datetime
    filters: Filters
    needs_review: bool
    sort: str
    from_history: bool  # --as-of: the reference, recomputed

    @classmethod
    def build(
        cls, runtime: Runtime, *, as_of: datetime | None, only_open: bool, severity: str | None,
        company_id: int | None, group: str | None, agent: str | None, at_risk: bool,
        breached: bool, needs_review: bool, sort: str,
    ) -> Listing:  # fmt: skip
        from sla_tracker.storage.directory import agent_names, group_names
        from sla_tracker.storage.judgments import Filters

        group_id = agent_id = None
        if group is not None or agent is not None:
            with runtime.engine.connect() as connection:
                if group is not None:
                    group_id = _directory_id(group, group_names(connection), "group", "--group")
                if agent is not None:
                    agent_id = _directory_id(agent, agent_names(connection), "agent", "--agent")
        filters = Filters(only_open=only_open, severity=severity, company_id=company_id,
                          group_id=group_id, responder_id=agent_id, at_risk=at_risk,
                          breached=breached)  # fmt: skip
        return cls(runtime, as_of or runtime.now, filters, needs_review, sort, as_of is not None)

    def _judgments(self) -> Iterator[JudgedTicket]:
        """Every match, most urgent first (``listing_order``), or in ``--sort`` order."""
        from sla_tracker.judgments import listing_order, matches

        judgments = self._kept
        found: Iterable[JudgedTicket]
        if self.from_history:
            found = sorted(
                (r for r in judgments.from_history() if matches(r, self.filters, judgments)),
                key=listing_order,
            )
        else:
            found = judgments.tickets(self.filters)
        if self.needs_review:
            found = (report for report in found if report.needs_review)
        if self.sort != "urgency":
            found = sorted(found, key=SORT_KEYS[self.sort])
        yield from found

    def _count(self) -> int:
        """How many tickets match: counted in SQL when the filters all run there."""
        if self.from_history or self.needs_review:
            return sum(1 for _ in self._judgments())
        return self._kept.count(self.filters)

    @cached_property
    def _kept(self) -> Judgments:
        """One view of the kept judgments per listing: the stale tickets it judges from
        history serve both the rows and their count."""
        from sla_tracker.judgments import Judgments

        runtime = self.runtime
        return Judgments(runtime.engine, runtime.settings, runtime.calendar(None), self.now)

    def stream_json(self) -> None:
        """A JSON array written item by item, one ticket per line: memory stays flat however
        many tickets match, and each line is encoded by the C encoder (an indented dump
        takes Python's, about ten times slower)."""
        from sla_tracker.present.tickets import ticket_json

        reports = self._judgments()
        opening = "[\n"
        while batch := list(islice(reports, BATCH)):
            items = ",\n".join(json.dumps(ticket_json(r), ensure_ascii=False) for r in batch)
            click.echo(opening + items, nl=False)
            opening = ",\n"
        click.echo("[]" if opening == "[\n" else "\n]")

    def stream_csv(self) -> None:
        from sla_tracker.present.tickets import tickets_csv

        reports = self._judgments()
        header = True
        while batch := list(islice(reports, BATCH)):
            text = tickets_csv(batch)
            click.echo(text if header else text.split("\n", 1)[1], nl=False)
            header = False
        if header:
            click.echo(tickets_csv([]), nl=False)

    def show_table(self, limit: int | None) -> None:
        """The most urgent that fit (a terminal's height unless ``--limit``), then how many
        more match and how to see them; a pager when the whole list is asked on a terminal."""
        from sla_tracker.present.output import render
        from sla_tracker.present.tickets import tickets_table

        terminal = sys.stdout.isatty()
        if limit is None and terminal:
            limit = max(5, shutil.get_terminal_size().lines - TABLE_CHROME)
        shown_limit = None if limit in (None, 0) else limit
        reports = self._judgments()
        shown = list(reports if shown_limit is None else islice(reports, shown_limit))
        rest = 0
        if shown_limit is not None and len(shown) == shown_limit:
            rest = self._count() - len(shown)
        from sla_tracker.cli.base import local_time

        when = local_time(self.runtime, self.now)
        title = f"{len(shown)} ticket(s) as of {when}"
        if rest:
            title = f"{len(shown)} of {len(shown) + rest} ticket(s) as of {when}, most urgent first"
        from sla_tracker.judgments import listing_threshold
        from sla_tracker.storage.audit import status_names

        table = tickets_table(
            shown,
            title=title,
            now=self.now,
            threshold=listing_threshold(self.runtime.settings),
            statuses=status_names(self.runtime.engine),
        )
        if terminal and shown_limit is None and len(shown) > shutil.get_terminal_size().lines:
            _paged(lambda: render(table))
        else:
            render(table)
        if rest:
            click.echo(f"… and {rest} more: --limit 0 shows them all, --json or --csv exports them")


def _paged(show: Callable[[], None]) -> None:
    from rich.console import Console

    console = Console()
    with console.pager(styles=True):
        show()


def _directory_id(given: str, names: dict[int, str], kind: str, option: str) -> int:
    """A group or agent named by its id or its name (any case)."""
    if given.isdigit():
        return int(given)
    found = [ident for ident, name in names.items() if name.casefold() == given.casefold()]
    if len(found) == 1:
        return found[0]
    known = ", ".join(sorted(names.values())) or "none synced yet: run `sla-tracker sync`"
    raise click.BadParameter(f"no single {kind} named {given!r}; known: {known}", param_hint=option)


SORT_KEYS: dict[str, Callable[[JudgedTicket], tuple[object, ...]]] = {
    "id": lambda report: (report.id,),
    "created": lambda report: (report.created_at, report.id),
    "company": lambda report: (report.company_name or "", report.company_id or 0, report.id),
}

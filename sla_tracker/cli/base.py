"""The ``sla-tracker`` group and what its commands share: the runtime (settings, store,
calendars and the run's instant, read once), error handling, options and helpers.

Start-up stays fast (``--help`` and ``calendar …`` load no database driver, no rich, no
templates): the group loads a command's module only when that command runs (or ``--help``
lists it), and those modules import their heavy dependencies inside the commands.
"""

from __future__ import annotations

import getpass
import importlib
import json
import logging
import os
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click

from sla_tracker import __version__
from sla_tracker.core.calendar import FIRST_YEAR, LAST_YEAR
from sla_tracker.core.instants import parse_instant

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from pathlib import Path

    from sla_tracker.config import Settings
    from sla_tracker.core.calendar import BusinessCalendar
    from sla_tracker.helpdesk import HelpdeskClient
    from sla_tracker.judge import JudgedTicket
    from sla_tracker.money import CustomerPeriod
    from sla_tracker.storage.engine import Engine
    from sla_tracker.sync import SyncSummary


@dataclass
class Runtime:
    """What every command shares: where settings come from, and the run's instant."""

    config_path: str | None
    calendars: dict[str, BusinessCalendar] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        from sla_tracker.config import find_config_file, load_settings

        return load_settings(find_config_file(self.config_path, os.environ))

    @cached_property
    def now(self) -> datetime:
        from sla_tracker.config import current_instant

        return current_instant()

    @cached_property
    def engine(self) -> Engine:
        from sla_tracker.storage.schema import open_store

        return open_store(self.settings.database.url)

    def calendar(self, name: str | None) -> BusinessCalendar:
        from sla_tracker.calendar_files import load_named_calendar

        name = name or self.settings.calendar.name
        if name not in self.calendars:
            self.calendars[name] = load_named_calendar(name, self.settings)
        return self.calendars[name]


class LazyGroup(click.Group):
    """click's lazy-loading group: ``lazy`` maps a command name to ``"module:attribute"``,
    imported only when the command is looked up, so one command never pays for another's."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, attribute = self.lazy[cmd_name].split(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):  # a wrong map entry is a bug, said plainly
            raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
        return command


# The errors that carry a message for the user, by module: a module never imported cannot
# have raised one, so checking them does not load SQLAlchemy, pydantic or SMTP code.
USER_ERRORS = (
    ("sla_tracker.config", "ConfigError"),
    ("sla_tracker.core.calendar", "CalendarError"),
    ("sla_tracker.storage.engine", "StoreError"),
    ("sla_tracker.helpdesk", "HelpdeskError"),
    ("sla_tracker.decisions", "DecisionError"),
    ("sla_tracker.money", "ContractError"),
    ("sla_tracker.reports.weekly", "ReportError"),
    ("sla_tracker.delivery.smtp", "MailError"),
    ("sla_tracker.present.money", "PdfUnavailableError"),
)


def _is_user_error(error: Exception) -> bool:
    return any(
        module in sys.modules and isinstance(error, getattr(sys.modules[module], name))
        for module, name in USER_ERRORS
    )


def redact(text: str) -> str:
    """Credentials in URLs masked (config's rule, loaded only when there is text to mask)."""
    from sla_tracker.config import redact as redact_credentials

    return redact_credentials(text)


class TrackerGroup(LazyGroup):
    """Turns errors into ``Error: …`` and exit status 1, no traceback, credentials in URLs
    masked; click's usage errors keep their status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except Exception as error:
            if _is_user_error(error):
                raise click.ClickException(redact(str(error))) from None
            if not isinstance(error, (ValueError, ArithmeticError, OSError)):
                raise
            # The safety net under the precise messages: an input beyond what some layer
            # handles (an overflowing date, undecodable bytes, a full disk) is still an error.
            reason = redact(str(error)) or type(error).__name__
            raise click.ClickException(
                f"cannot do this with the values given ({reason}); "
                "check them against `sla-tracker COMMAND --help`"
            ) from None


class FreshdeskId(click.ParamType[int, Any]):
    """A Freshdesk id as the store keeps it (64-bit): a larger one is a typo, said so."""

    name = "id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from sla_tracker.storage.tables import BIGINT

        try:
            number = int(value)
        except ValueError:
            number = 0
        if not 0 < number < BIGINT:
            self.fail(f"{value!r} is not a Freshdesk id: a whole number from 1 to {BIGINT - 1}")
        return number


FRESHDESK_ID = FreshdeskId()


def _instant(ctx: click.Context, param: click.Parameter, value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


def _optional_instant(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    return None if value is None else _instant(ctx, param, value)


def _iso_week(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``2026-W48``, within the calendar's years (a week of year 1 or 9999 cannot be drawn)."""
    match = re.fullmatch(r"(\d{4})-[Ww](\d{2})", value or "")
    if value is None or (match and FIRST_YEAR <= int(match[1]) <= LAST_YEAR):
        return value
    raise click.BadParameter(
        f"{value!r} is not an ISO week of {FIRST_YEAR}–{LAST_YEAR} such as 2026-W48", ctx, param
    )


def _author(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("give a name: it is kept with the record", ctx, param)
    return value


def by_option(who: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--by``: the person a record is kept with, never blank (the audit trail names them)."""
    return click.option(
        "--by", default=getpass.getuser, callback=_author,
        help=f"Who {who} (default: the current user).",
    )  # fmt: skip


def write_file(path: Path, content: str | bytes) -> None:
    """Write a command's ``--out``; a missing folder or a full disk is an ``Error:``."""
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as error:
        raise click.ClickException(
            f"cannot write {path}: {error.strerror}; check that its folder exists and has room"
        ) from None


class _RedactingRecord(logging.LogRecord):
    """A log record whose message and traceback have credentials in URLs masked, whoever
    logs it (a formatter stores the traceback it renders in ``exc_text``)."""

    def getMessage(self) -> str:
        return redact(super().getMessage())

    @property
    def exc_text(self) -> str | None:
        return self._exc_text

    @exc_text.setter
    def exc_text(self, text: str | None) -> None:
        self._exc_text = None if text is None else redact(text)


calendar_option = click.option(
    "--calendar", "calendar_name", metavar="NAME", help="Calendar name (default: calendar.name)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


COMMANDS = {  # name → "module:attribute", imported when the command runs
    "calendar": "sla_tracker.cli.calendar_commands:calendar",
    "check-config": "sla_tracker.cli.base:check_config",
    "classify": "sla_tracker.cli.ticket_commands:classify_command",
    "contracts": "sla_tracker.cli.money_commands:contracts",
    "db": "sla_tracker.cli.service_commands:db",
    "demo": "sla_tracker.cli.demo_command:demo",
    "exclude": "sla_tracker.cli.ticket_commands:exclude_command",
    "explain": "sla_tracker.cli.ticket_commands:explain_command",
    "exposure": "sla_tracker.cli.money_commands:exposure_command",
    "indemnities": "sla_tracker.cli.money_commands:indemnities_command",
    "period": "sla_tracker.cli.money_commands:period",
    "report": "sla_tracker.cli.service_commands:report",
    "run": "sla_tracker.cli.service_commands:run_command",
    "simulator": "sla_tracker.cli.service_commands:simulator",
    "statement": "sla_tracker.cli.money_commands:statement_command",
    "status": "sla_tracker.cli.service_commands:status_command",
    "sync": "sla_tracker.cli.service_commands:sync_command",
    "refresh": "sla_tracker.cli.judgment_commands:refresh_command",
    "ticket": "sla_tracker.cli.ticket_commands:ticket_command",
    "tickets": "sla_tracker.cli.ticket_commands:tickets_command",
    "unexclude": "sla_tracker.cli.ticket_commands:unexclude_command",
    "verify": "sla_tracker.cli.judgment_commands:verify_command",
    "web": "sla_tracker.cli.web_command:web_command",
}


@click.group(
    cls=TrackerGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]}
)
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
    logging.setLogRecordFactory(_RedactingRecord)
    ctx.obj = Runtime(config_path)


@click.command("check-config")
@click.pass_obj
def check_config(runtime: Runtime) -> None:
    """Validate the configuration and the selected calendar.

    \b
    Example:
        sla-tracker --config sla-tracker.toml check-config
    """
    from sla_tracker.storage.engine import sqlite_folder

    settings = runtime.settings
    calendar = runtime.calendar(None)
    folder = sqlite_folder(settings.database.url)  # missing, the first sync would fail
    if folder is not None and not folder.is_dir():
        raise click.ClickException(
            f"{settings.source}: database.url: the folder {folder} does not exist; "
            "create it or point database.url elsewhere"
        )
    click.echo(f"OK: {settings.source} (calendar {calendar.name}, {calendar.timezone})")
    if not settings.alert_channels:
        from sla_tracker.config import NO_ALERT_CHANNEL

        click.echo(f"Note: {NO_ALERT_CHANNEL}")


def _sync(
    runtime: Runtime, client: HelpdeskClient, *, judge: bool = True, **options: Any
) -> SyncSummary:
    from sla_tracker.cli.judgment_commands import refresh_with_progress
    from sla_tracker.present.output import sync_progress
    from sla_tracker.sync import sync_once

    with sync_progress() as progress:
        report = sync_once(
            client, runtime.engine, runtime.settings, now=runtime.now, progress=progress, **options
        )
    # A writing command keeps the judgments of what it polled (and the rules' verdicts with
    # them): reads never write.
    if judge:
        refresh_with_progress(runtime)
    return report


def _as_of(runtime: Runtime, as_of: datetime | None) -> datetime:
    return as_of or runtime.now


def _reports(
    runtime: Runtime, *, now: datetime, ticket_ids: list[int] | None = None, detail: bool = False
) -> list[JudgedTicket]:
    from sla_tracker.judge import evaluate_tickets

    return evaluate_tickets(
        runtime.engine, runtime.settings, runtime.calendar(None), now=now,
        ticket_ids=ticket_ids, with_transitions=detail,
    )  # fmt: skip


def _one(runtime: Runtime, ticket_id: int, now: datetime) -> JudgedTicket:
    found = _reports(runtime, now=now, ticket_ids=[ticket_id], detail=True)
    if not found:
        raise click.ClickException(
            f"no ticket {ticket_id} known as of {local_time(runtime, now)}: check the id, or run "
            "`sla-tracker sync` first"
        )
    return found[0]


as_of_option = click.option(
    "--as-of", callback=_optional_instant, help="Answer as the tracker would have at INSTANT."
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
    if as_json and as_csv:
        raise click.UsageError("--json and --csv are exclusive: give one of them")
    if as_json:
        click.echo(json.dumps([to_json(item) for item in items], ensure_ascii=False, indent=2))
    elif as_csv:
        click.echo(to_csv(items), nl=False)
    return as_json or as_csv


def local_time(runtime: Runtime, at: datetime) -> str:
    """An instant as people read it: the calendar's zone, with the weekday and the year."""
    from sla_tracker.present.when import local_instant

    return local_instant(at, runtime.calendar(None).zone, "en", year=True)


def company_names(runtime: Runtime) -> dict[int, str]:
    """The help desk's company names, by id."""
    from sla_tracker.storage.judging import company_names as names_of

    with runtime.engine.connect() as connection:
        return names_of(connection)


def require_company(runtime: Runtime, company_id: int) -> None:
    """An unknown company is an error naming the known ones, never an empty answer."""
    from sla_tracker.money import load_contracts

    names = company_names(runtime)
    if company_id in names or company_id in load_contracts(runtime.engine):
        return
    known = ", ".join(f"{name} ({ident})" for ident, name in sorted(names.items())[:10])
    raise click.ClickException(
        f"no company {company_id} in the database; known: {known or 'none yet'}"
        + ("…" if len(names) > 10 else "")
        + " (`sla-tracker sync` reads them from Freshdesk)"
    )


def is_at_risk(report: JudgedTicket, threshold: float) -> bool:
    """SPEC §4: a running contractual clock that has used at least the first threshold."""
    return any(clock.at_risk(threshold) for clock in (report.response, report.restoration))


def is_breached(report: JudgedTicket) -> bool:
    return any(clock.breached for clock in (report.response, report.restoration))


def _customer_lines(runtime: Runtime, now: datetime) -> list[CustomerPeriod]:
    """Indemnities come from breached GTR clocks only: at the current instant the kept
    judgments name those tickets, which are then judged from history (the pauses inside an
    overrun count); ``--as-of`` judges every ticket from history."""
    from sla_tracker.money import customer_periods

    ticket_ids = None
    if now == runtime.now:
        from sla_tracker.cli.judgment_commands import judgments_of
        from sla_tracker.storage.judgments import Filters

        breached = judgments_of(runtime).tickets(Filters(gtr_breached=True))
        ticket_ids = [report.id for report in breached]
    reports = _reports(runtime, now=now, ticket_ids=ticket_ids)
    return customer_periods(runtime.engine, runtime.settings, runtime.calendar(None),
                            [r for r in reports if r.listed], now=now)  # fmt: skip


def _unrestored_gtr_candidates(runtime: Runtime) -> list[JudgedTicket]:
    """Open blocking tickets from the kept judgments: the only ones whose GTR clock can still
    run (C8), for ``exposure``."""
    from sla_tracker.cli.judgment_commands import judgments_of
    from sla_tracker.storage.judgments import Filters

    return list(judgments_of(runtime).tickets(Filters(only_open=True, severity="blocking")))


def main() -> None:  # pragma: no cover - `python -m sla_tracker`
    cli(prog_name="sla-tracker", args=sys.argv[1:])

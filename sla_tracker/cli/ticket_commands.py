"""Ticket commands: listings, one ticket, its evidence, and people's decisions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from sla_tracker.cli.base import (
    FRESHDESK_ID,
    Runtime,
    _as_of,
    _one,
    _optional_instant,
    as_of_option,
    by_option,
    local_time,
)
from sla_tracker.core.classification import GtrObject, Severity
from sla_tracker.decisions import EXCLUSION_REASONS

SORTS = ("urgency", "id", "created", "company")

if TYPE_CHECKING:
    from datetime import datetime


@click.command("tickets")
@click.option("--open", "only_open", is_flag=True, help="Only tickets not restored.")
@click.option(
    "--severity", type=click.Choice([s.value for s in Severity]), help="Only this severity."
)
@click.option("--company", "company_id", type=FRESHDESK_ID, help="Only this Freshdesk company id.")
@click.option("--group", "group", metavar="NAME|ID", help="Only this Freshdesk group.")
@click.option("--agent", "agent", metavar="NAME|ID", help="Only tickets assigned to this agent.")
@click.option("--at-risk", is_flag=True, help="Running clocks past the first alert threshold.")
@click.option("--breached", is_flag=True, help="Clocks past their target.")
@click.option("--needs-review", is_flag=True, help="Clocks that rest on an unseen change.")
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default="urgency",
    show_default=True,
    help="Order: most urgent first, or by id, creation or company.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    help="Show at most N tickets (default on a terminal: what fits the screen; 0: all).",
)
@as_of_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every match, streamed).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (every match, streamed).")
@click.pass_obj
def tickets_command(
    runtime: Runtime, only_open: bool, severity: str | None, company_id: int | None,
    group: str | None, agent: str | None, at_risk: bool, breached: bool, needs_review: bool,
    sort: str, limit: int | None, as_of: datetime | None, as_json: bool, as_csv: bool,
) -> None:  # fmt: skip
    """Tickets with their clocks, the most urgent first.

    Answers come from the judgments kept after each ticket's last event (`--as-of`
    recomputes from history). JSON and CSV stream every match; on a terminal the table shows
    what fits the screen and says how many more there are.

    \b
    Example:
        sla-tracker tickets --open --at-risk
        sla-tracker tickets --group "Support N2" --sort created --limit 20
        sla-tracker tickets --breached --as-of 2026-11-27T17:00:00+01:00 --json
    """
    from sla_tracker.cli.listing import Listing

    if as_json and as_csv:
        raise click.UsageError("--json and --csv are exclusive: give one of them")
    listing = Listing.build(
        runtime, as_of=as_of, only_open=only_open, severity=severity, company_id=company_id,
        group=group, agent=agent, at_risk=at_risk, breached=breached, needs_review=needs_review,
        sort=sort,
    )  # fmt: skip
    if as_json:
        listing.stream_json()
    elif as_csv:
        listing.stream_csv()
    else:
        listing.show_table(limit)


@click.command("ticket")
@click.argument("ticket_id", type=FRESHDESK_ID)
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
    from sla_tracker.decisions import decision_trail
    from sla_tracker.present.tickets import ticket_json, ticket_text
    from sla_tracker.storage.audit import status_names

    now = _as_of(runtime, as_of)
    report = _one(runtime, ticket_id, now)
    decisions = decision_trail(runtime.engine, ticket_id, now=now)
    if as_json:
        click.echo(json.dumps(ticket_json(report, decisions), ensure_ascii=False, indent=2))
    else:
        statuses = status_names(runtime.engine)
        text = ticket_text(report, runtime.calendar(None), now=now, statuses=statuses,
                           decisions=decisions)  # fmt: skip
        click.echo(text)


@click.command("explain")
@click.argument("ticket_id", type=FRESHDESK_ID)
@as_of_option
@click.pass_obj
def explain_command(runtime: Runtime, ticket_id: int, as_of: datetime | None) -> None:
    """The evidence trace of a ticket's clocks: every interval, counted or not, and why.

    \b
    Example:
        sla-tracker explain 48230
    """
    from sla_tracker.decisions import decision_trail
    from sla_tracker.policies import settings_fingerprint
    from sla_tracker.present.tickets import explanation_text
    from sla_tracker.storage.audit import status_names

    now = _as_of(runtime, as_of)
    report = _one(runtime, ticket_id, now)
    click.echo(
        explanation_text(
            report, runtime.calendar(None), now=now,
            fingerprint=settings_fingerprint(runtime.settings),
            statuses=status_names(runtime.engine),
            decisions=decision_trail(runtime.engine, ticket_id, now=now),
        )
    )  # fmt: skip


@click.command("classify")
@click.argument("ticket_id", type=FRESHDESK_ID)
@click.option(
    "--severity", type=click.Choice([s.value for s in Severity if s != Severity.UNCLASSIFIED])
)
@click.option("--gtr-object", type=click.Choice([g.value for g in GtrObject]))
@click.option(
    "--external/--no-external", default=None, help="Data linked to an external tool (C9)."
)
@click.option("--non-standard/--standard", default=None, help="Non-standard fields involved (C9).")
@click.option("--reason", required=True, help="Why: kept with the decision.")
@by_option("decides")
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
    from sla_tracker.decisions import record_classification

    given = {"severity": severity, "gtr_object": gtr_object, "external_link": external,
             "non_standard_fields": non_standard}  # fmt: skip
    values = {key: value for key, value in given.items() if value is not None}
    record_classification(runtime.engine, ticket_id, values, by=by, reason=reason, now=runtime.now)
    click.echo(
        f"Ticket {ticket_id}: recorded {', '.join(f'{k}={v}' for k, v in values.items())} by {by}"
    )


@click.command("exclude")
@click.argument("ticket_id", type=FRESHDESK_ID)
@click.option("--reason", required=True, type=click.Choice(EXCLUSION_REASONS), help="C11 cause.")
@click.option("--note", required=True, help="What happened, for the record.")
@click.option(
    "--from", "starts_at", callback=_optional_instant, help="Start of the excluded interval."
)
@click.option("--to", "ends_at", callback=_optional_instant, help="End of the excluded interval.")
@by_option("decides")
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
    from sla_tracker.decisions import record_exclusion

    record_exclusion(runtime.engine, ticket_id, reason=reason, note=note, by=by,
                     now=runtime.now, starts_at=starts_at, ends_at=ends_at)  # fmt: skip
    scope = "whole ticket"
    if starts_at is not None and ends_at is not None:
        scope = f"{local_time(runtime, starts_at)} → {local_time(runtime, ends_at)}"
    click.echo(f"Ticket {ticket_id}: excluded ({reason}, {scope}) by {by}")


@click.command("unexclude")
@click.argument("ticket_id", type=FRESHDESK_ID)
@click.option("--reason", required=True, help="Why the exclusion no longer holds.")
@by_option("decides")
@click.pass_obj
def unexclude_command(runtime: Runtime, ticket_id: int, reason: str, by: str) -> None:
    """Lift a ticket's exclusions (they stay on record).

    \b
    Example:
        sla-tracker unexclude 48230 --reason "The outage was on our side"
    """
    from sla_tracker.decisions import revoke_exclusions

    revoke_exclusions(runtime.engine, ticket_id, reason=reason, by=by, now=runtime.now)
    click.echo(f"Ticket {ticket_id}: exclusions lifted by {by}")

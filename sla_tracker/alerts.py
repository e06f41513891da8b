"""Alerts: a running clock crossing a threshold (SPEC §4, default 50 % and 80 %), a breach,
a GTR ticket starting to accrue indemnity — one e-mail per event, and optionally a JSON
webhook (Slack and Teams accept ``{"text": …}``).

Each event is recorded before anything is sent (a unique key per ticket, clock, kind and
threshold), then claimed just before sending: a restart never sends it again, and a failed
send is released for the next run.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

import requests
from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from sla_tracker.core.clocks import ClockState
from sla_tracker.core.instants import format_instant
from sla_tracker.mailer import MailError, RenderedEmail, make_message, send
from sla_tracker.money_views import template_environment
from sla_tracker.storage import AlertEvent, table_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from sqlalchemy import Engine

    from sla_tracker.config import Settings
    from sla_tracker.evaluate import TicketReport

LOG = logging.getLogger("sla_tracker.alerts")
EVENTS = table_of(AlertEvent)
OPEN_STATES = (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)
MAX_ATTEMPTS = 20


def due_events(reports: Iterable[TicketReport], thresholds: Iterable[int]) -> list[dict[str, Any]]:
    """The events the clocks call for now: thresholds crossed, breaches, GTR accruing."""
    events = []
    for report in reports:
        for clock in (report.response, report.restoration):
            if not clock.contractual or clock.state not in OPEN_STATES:
                continue
            detail = {
                "subject": report.row["subject"],
                "company": report.company_name,
                "deadline": format_instant(clock.deadline) if clock.deadline else None,
                "remaining_seconds": clock.remaining_seconds,
            }
            for threshold in thresholds:
                if clock.used_fraction * 100 >= threshold:
                    events.append(_event(report.id, clock.name, "threshold", threshold, detail))
            if clock.state is ClockState.BREACHED:
                kind = "gtr_accruing" if clock.name == "restoration" else "breach"
                events.append(_event(report.id, clock.name, kind, 0, detail))
    return events


def _event(
    ticket_id: int, clock: str, kind: str, threshold: int, detail: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "clock": clock,
        "kind": kind,
        "threshold": threshold,
        "detail": detail,
    }


def record_events(engine: Engine, events: list[dict[str, Any]], *, now: datetime) -> int:
    """Insert the events not recorded yet; returns how many are new."""
    if not events:
        return 0
    rows = [{**event, "recorded_at": now, "attempts": 0} for event in events]
    with engine.begin() as connection:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(EVENTS).on_conflict_do_nothing(
            index_elements=["ticket_id", "clock", "kind", "threshold"]
        )
        return int(connection.execute(statement, rows).rowcount or 0)


def send_pending(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    mail: Callable[..., None] = send,
    post: Callable[..., Any] = requests.post,
) -> tuple[int, int]:
    """Send every recorded, unsent event by e-mail (and webhook); returns (sent, failed)."""
    sent = failed = 0
    channels = []
    if settings.smtp.recipients:
        channels.append(EVENTS.c.email_sent_at.is_(None))
    if settings.alerts.webhook_url:
        channels.append(EVENTS.c.webhook_sent_at.is_(None))
    if not channels:
        return 0, 0
    query = (
        select(EVENTS).where(or_(*channels), EVENTS.c.attempts < MAX_ATTEMPTS).order_by(EVENTS.c.id)
    )
    with engine.connect() as connection:
        pending = connection.execute(query).mappings().all()
    for event in pending:
        record = dict(event)
        ok = True
        if settings.smtp.recipients and record["email_sent_at"] is None:
            ok &= _deliver(
                engine, record, "email_sent_at", now, partial(_mail, record, settings, mail)
            )
        if settings.alerts.webhook_url and record["webhook_sent_at"] is None:
            ok &= _deliver(
                engine, record, "webhook_sent_at", now, partial(_post, record, settings, post)
            )
        sent += ok
        failed += not ok
    return sent, failed


def _deliver(
    engine: Engine, event: dict[str, Any], column: str, now: datetime, action: Callable[[], None]
) -> bool:
    """Claim, then act; release the claim and count the attempt if the action fails."""
    event_id = event["id"]
    with engine.begin() as connection:
        claimed = connection.execute(
            update(EVENTS)
            .where(EVENTS.c.id == event_id, EVENTS.c[column].is_(None))
            .values({column: now})
        ).rowcount
    if not claimed:
        return True  # another instance got there first
    try:
        action()
    except (MailError, requests.RequestException, ValueError) as error:
        LOG.warning("alert %s not sent (%s): %s", event_id, column.removesuffix("_sent_at"), error)
        with engine.begin() as connection:
            connection.execute(
                update(EVENTS)
                .where(EVENTS.c.id == event_id)
                .values(
                    {
                        column: None,
                        "attempts": EVENTS.c.attempts + 1,
                        "last_error": str(error)[:500],
                    }
                )
            )
        return False
    return True


def render_alert(event: dict[str, Any], language: str) -> RenderedEmail:
    environment = template_environment()
    context = {"e": event, "d": event.get("detail") or {}, "lang": language}
    return RenderedEmail(
        subject=environment.get_template("alert-subject.txt").render(context).strip(),
        text=environment.get_template("alert-body.txt").render(context),
        html=environment.get_template("alert-body.html").render(context),
    )


def _mail(event: dict[str, Any], settings: Settings, mail: Callable[..., None]) -> None:
    rendered = render_alert(dict(event), settings.report.language)
    mail(
        make_message(rendered, sender=settings.smtp.sender, recipients=settings.smtp.recipients),
        settings.smtp,
    )


def _post(event: dict[str, Any], settings: Settings, post: Callable[..., Any]) -> None:
    rendered = render_alert(dict(event), settings.report.language)
    response = post(
        settings.alerts.webhook_url,
        json={"text": rendered.subject, "event": _plain(event)},
        timeout=10,
    )
    response.raise_for_status()


def _plain(event: dict[str, Any]) -> dict[str, Any]:
    keys = ("ticket_id", "clock", "kind", "threshold", "detail")
    return {key: event[key] for key in keys}

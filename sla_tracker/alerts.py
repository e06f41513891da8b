"""Alerts: a running clock crossing a threshold (SPEC §4, default 50 % and 80 %), a breach,
a GTR ticket starting to accrue indemnity — one e-mail per event, and optionally a JSON
webhook (Slack and Teams accept ``{"text": …}``).

Each event is recorded before anything is sent (a unique key per ticket, clock, kind and
threshold) and delivered at least once per channel (``delivery.deliver``): the e-mail under
one Message-ID, the webhook under one idempotency key, both kept across retries; an event is
marked sent once accepted, so a restart never sends it again and a failed send is retried.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

import requests
from sqlalchemy import or_, select
from sqlalchemy.dialects import postgresql, sqlite

from sla_tracker.core.clocks import ClockState
from sla_tracker.core.instants import format_instant
from sla_tracker.delivery.intents import deliver
from sla_tracker.delivery.smtp import MailError, RenderedEmail, make_message, new_message_id, send
from sla_tracker.present.money import template_environment
from sla_tracker.storage.tables import AlertEvent, table_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from sqlalchemy import Engine

    from sla_tracker.config import Settings
    from sla_tracker.judge import JudgedTicket

LOG = logging.getLogger("sla_tracker.alerts")
EVENTS = table_of(AlertEvent)
OPEN_STATES = (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)
MAX_ATTEMPTS = 20


def due_events(reports: Iterable[JudgedTicket], thresholds: Iterable[int]) -> list[dict[str, Any]]:
    """The events the clocks call for now: thresholds crossed, breaches, GTR accruing."""
    events = []
    for report in reports:
        for clock in (report.response, report.restoration):
            if not clock.contractual or clock.state not in OPEN_STATES:
                continue
            detail = {
                "subject": report.subject,
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
            new_id = partial(new_message_id, settings.smtp.sender)
            ok &= _deliver(
                engine, record, "email", new_id, partial(_mail, record, settings, mail), now
            )
        if settings.alerts.webhook_url and record["webhook_sent_at"] is None:
            new_key = partial(_webhook_key, record)
            ok &= _deliver(
                engine, record, "webhook", new_key, partial(_post, record, settings, post), now
            )
        sent += ok
        failed += not ok
    return sent, failed


def _deliver(
    engine: Engine,
    event: dict[str, Any],
    channel: str,
    new_key: Callable[[], str],
    send: Callable[[str], None],
    now: datetime,
) -> bool:
    """One channel of one event, at least once under one key; a failure is logged, retried later."""
    key_column = "email_message_id" if channel == "email" else "webhook_key"
    sent_column = f"{channel}_sent_at"
    try:
        deliver(engine, EVENTS, event["id"], key_column=key_column, sent_column=sent_column,
                new_key=new_key, send=send, now=now)  # fmt: skip
    except (MailError, requests.RequestException, ValueError) as error:
        LOG.warning("alert %s not sent (%s): %s", event["id"], channel, error)
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


def _mail(
    event: dict[str, Any], settings: Settings, mail: Callable[..., None], message_id: str
) -> None:
    rendered = render_alert(dict(event), settings.report.language)
    smtp = settings.smtp
    mail(
        make_message(
            rendered, sender=smtp.sender, recipients=smtp.recipients, message_id=message_id
        ),
        smtp,
    )


def _webhook_key(event: dict[str, Any]) -> str:
    """Unique to the event in this database and across databases (the uuid)."""
    return f"sla-tracker-alert-{event['id']}-{uuid.uuid4().hex}"


def _post(event: dict[str, Any], settings: Settings, post: Callable[..., Any], key: str) -> None:
    """POST without following redirects: a 3xx is a failure, never a second request elsewhere."""
    rendered = render_alert(dict(event), settings.report.language)
    response = post(
        settings.alerts.webhook_url,
        json={"text": rendered.subject, "idempotency_key": key, "event": _plain(event)},
        headers={"Idempotency-Key": key},
        timeout=10,
        allow_redirects=False,
    )
    if not 200 <= response.status_code < 300:
        redirect = " (redirects are not followed)" if response.is_redirect else ""
        raise requests.HTTPError(f"the webhook answered {response.status_code}{redirect}")


def _plain(event: dict[str, Any]) -> dict[str, Any]:
    keys = ("ticket_id", "clock", "kind", "threshold", "detail")
    return {key: event[key] for key in keys}

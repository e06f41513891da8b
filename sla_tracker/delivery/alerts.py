"""Sending the recorded alerts: rendered (``present/emails.py``) in the report's language and
mailed, and optionally posted as JSON to a webhook (Slack and Teams accept ``{"text": …}``).

With ``alerts.digest`` (the default) the alerts due in one run go out as one message per
channel; otherwise one message per alert. Each message is delivered at least once and never
as two different messages: its key (the e-mail's Message-ID, the webhook's idempotency key)
is recorded on each of its alerts before the first try, and a retry sends the alerts that
share a key together again, under that key; they are marked sent once accepted, so a
restart never sends them again and a failed send is retried.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import requests

from sla_tracker.calendar_files import load_named_calendar
from sla_tracker.delivery.smtp import MailError, make_message, new_message_id, send
from sla_tracker.present.emails import render_alerts
from sla_tracker.storage.alerts import unsent_events
from sla_tracker.storage.deliveries import (
    ALERT_EMAILS,
    ALERT_WEBHOOKS,
    claim_key,
    count_failure,
    mark_sent,
)
from sla_tracker.storage.reports import team_names

if TYPE_CHECKING:
    from datetime import datetime, tzinfo

    from sla_tracker.config import Settings
    from sla_tracker.present.templates import RenderedEmail
    from sla_tracker.storage.deliveries import Outbox
    from sla_tracker.storage.engine import Engine

LOG = logging.getLogger("sla_tracker.alerts")
Sender = Callable[[list[dict[str, Any]], str], None]  # sends these alerts under this key
MAX_ATTEMPTS = 20


def send_pending(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    mail: Callable[..., None] = send,
    post: Callable[..., Any] = requests.post,
    zone: tzinfo | None = None,
) -> tuple[int, int]:
    """Send every recorded, unsent alert by e-mail (and webhook); returns (sent, failed)
    counted in alerts. Instants are shown in ``zone`` (default: the calendar's)."""
    pending = unsent_events(
        engine,
        email=bool(settings.smtp.recipients),
        webhook=bool(settings.alerts.webhook_url),
        max_attempts=MAX_ATTEMPTS,
    )
    if not pending:
        return 0, 0
    shown_in = zone or load_named_calendar(settings.calendar.name, settings).zone
    groups, agents = team_names(engine)

    def render(events: list[dict[str, Any]]) -> RenderedEmail:
        return render_alerts(
            events, language=settings.report.language, zone=shown_in, now=now,
            freshdesk=settings.freshdesk, groups=groups, agents=agents,
        )  # fmt: skip

    failed_ids: set[int] = set()
    channels: list[tuple[Outbox, Callable[[], str] | None, Sender]] = []
    if settings.smtp.recipients:
        channels.append((ALERT_EMAILS, partial(new_message_id, settings.smtp.sender),
                         partial(_mail, settings=settings, mail=mail, render=render)))  # fmt: skip
    if settings.alerts.webhook_url:
        channels.append((ALERT_WEBHOOKS, None,
                         partial(_post, settings=settings, post=post, render=render)))  # fmt: skip
    for outbox, new_key, sender in channels:
        unsent = [event for event in pending if event[outbox.sent_column] is None]
        for group in _messages(unsent, outbox, digest=settings.alerts.digest):
            make_key = new_key or partial(_webhook_key, group[0])
            if not _deliver(engine, outbox, group, make_key, sender, now):
                failed_ids.update(event["id"] for event in group)
    return len(pending) - len(failed_ids), len(failed_ids)


def _messages(
    events: list[dict[str, Any]], outbox: Outbox, *, digest: bool
) -> list[list[dict[str, Any]]]:
    """The messages to send: alerts already tried go again with those that share their key;
    the new ones together (a digest) or each alone."""
    tried: dict[str, list[dict[str, Any]]] = {}
    new: list[dict[str, Any]] = []
    for event in events:
        key = event[outbox.key_column]
        if key is None:
            new.append(event)
        else:
            tried.setdefault(key, []).append(event)
    fresh = ([new] if new else []) if digest else [[event] for event in new]
    return [*tried.values(), *fresh]


def _deliver(
    engine: Engine,
    outbox: Outbox,
    events: list[dict[str, Any]],
    new_key: Callable[[], str],
    send: Sender,
    now: datetime,
) -> bool:
    """One message for ``events`` on one channel, at least once under one key; a failure is
    counted on each of its alerts and logged, and retried later."""
    key = new_key()
    for event in events:
        key = claim_key(engine, outbox, event["id"], key)
    ids = [event["id"] for event in events]
    try:
        send(events, key)
    except (MailError, requests.RequestException, ValueError) as error:
        for event_id in ids:
            count_failure(engine, outbox, event_id, str(error))
        LOG.warning("alerts %s not sent (%s): %s", ids, outbox.key_column, error)
        return False
    for event_id in ids:
        mark_sent(engine, outbox, event_id, now)
    return True


def _mail(
    events: list[dict[str, Any]],
    message_id: str,
    *,
    settings: Settings,
    mail: Callable[..., None],
    render: Callable[[list[dict[str, Any]]], RenderedEmail],
) -> None:
    smtp = settings.smtp
    mail(
        make_message(
            render(events), sender=smtp.sender, recipients=smtp.recipients, message_id=message_id
        ),
        smtp,
    )


def _webhook_key(event: dict[str, Any]) -> str:
    """Unique to the message in this database and across databases (the uuid)."""
    return f"sla-tracker-alert-{event['id']}-{uuid.uuid4().hex}"


def _post(
    events: list[dict[str, Any]],
    key: str,
    *,
    settings: Settings,
    post: Callable[..., Any],
    render: Callable[[list[dict[str, Any]]], RenderedEmail],
) -> None:
    """POST without following redirects: a 3xx is a failure, never a second request elsewhere.

    ``text`` is what Slack and Teams show: the subject, then the plain-text body."""
    rendered = render(events)
    plain = [_plain(event) for event in events]
    response = post(
        settings.alerts.webhook_url,
        json={
            "text": f"{rendered.subject}\n\n{rendered.text.strip()}",
            "idempotency_key": key,
            "event": plain[0],
            "events": plain,
        },
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

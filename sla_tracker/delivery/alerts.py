"""Sending the recorded alerts: each rendered (``present/emails.py``) in the report's
language and mailed, and optionally posted as JSON to a webhook (Slack and Teams accept
``{"text": …}``).

Each event is delivered at least once per channel (``delivery.intents.deliver``): the e-mail
under one Message-ID, the webhook under one idempotency key, both kept across retries; an
event is marked sent once accepted, so a restart never sends it again and a failed send is
retried.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import TYPE_CHECKING, Any

import requests

from sla_tracker.delivery.intents import deliver
from sla_tracker.delivery.smtp import MailError, make_message, new_message_id, send
from sla_tracker.present.emails import render_alert
from sla_tracker.storage.alerts import unsent_events
from sla_tracker.storage.deliveries import ALERT_EMAILS, ALERT_WEBHOOKS

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from sla_tracker.config import Settings
    from sla_tracker.storage.engine import Engine

LOG = logging.getLogger("sla_tracker.alerts")
MAX_ATTEMPTS = 20


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
    pending = unsent_events(
        engine,
        email=bool(settings.smtp.recipients),
        webhook=bool(settings.alerts.webhook_url),
        max_attempts=MAX_ATTEMPTS,
    )
    for record in pending:
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
    outbox = ALERT_EMAILS if channel == "email" else ALERT_WEBHOOKS
    try:
        deliver(engine, outbox, event["id"], new_key=new_key, send=send, now=now)
    except (MailError, requests.RequestException, ValueError) as error:
        LOG.warning("alert %s not sent (%s): %s", event["id"], channel, error)
        return False
    return True


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

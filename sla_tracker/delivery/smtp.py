"""E-mail out: multipart messages (plain text and HTML) sent over SMTP as configured.

STARTTLS on 587, implicit TLS on 465, or plain for a local relay; a login when a user is
configured, with the password from ``$SLA_TRACKER_SMTP_PASSWORD`` (never logged). Errors
are raised as MailError naming the server, never the password.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sla_tracker.config import SmtpSettings
    from sla_tracker.present.templates import RenderedEmail


class MailError(Exception):
    """The message could not be handed to the SMTP server; the next run will retry."""


def new_message_id(sender: str) -> str:
    """A fresh Message-ID in the sender's domain, recorded before the first try."""
    return make_msgid(domain=sender.rpartition("@")[2] or "sla-tracker")


def make_message(
    rendered: RenderedEmail, *, sender: str, recipients: Sequence[str], message_id: str
) -> EmailMessage:
    """A multipart/alternative message under the given Message-ID, ready to send and to record."""
    message = EmailMessage()
    message["Subject"] = " ".join(rendered.subject.split())  # one line, whatever the template
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def send(message: EmailMessage, settings: SmtpSettings, *, timeout: float = 30.0) -> None:
    """Hand one message to the configured SMTP server."""
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                password = settings.password.get_secret_value() if settings.password else ""
                client.login(settings.username, password)
            client.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise MailError(
            f"SMTP server {where} refused the login of {settings.username!r}: check smtp.username "
            "and $SLA_TRACKER_SMTP_PASSWORD"
        ) from None
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(
            f"cannot send through SMTP server {where}: {type(error).__name__}: {error}"
        ) from None

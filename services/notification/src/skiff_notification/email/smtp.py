"""Sending one message over SMTP with aiosmtplib (STARTTLS and login when configured)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from skiff_notification.email.models import OutgoingEmail


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over; `host` empty means no sending at all."""

    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str = ""
    password: str = ""
    timeout_seconds: float = 10.0


def message_of(row: OutgoingEmail, sender: str) -> EmailMessage:
    """The MIME message of an outbox row; its Message-ID names the row (duplicates show)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = make_msgid(idstring=row.id, domain="skiff.local")
    message["X-Skiff-Email-Id"] = row.id
    if row.unsubscribe_url:
        # RFC 8058: mail clients offer the button and POST this body to the URL, no sign-in.
        message["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(row.text_body)
    return message


def is_permanent(error: Exception) -> bool:
    """A 5xx answer (a refused recipient, say) will not change on retry."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return all(refusal.code >= 500 for refusal in error.recipients)
    return isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 500


async def send(config: SmtpConfig, message: EmailMessage) -> None:
    """Deliver `message` to the configured server (raises on any failure)."""
    await aiosmtplib.send(
        message,
        hostname=config.host,
        port=config.port,
        start_tls=config.starttls,
        username=config.username or None,
        password=config.password or None,
        timeout=config.timeout_seconds,
    )

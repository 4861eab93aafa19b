"""The text of each email: subject and plain-text body with a link to the public site."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlencode

from skiff_contracts.events.identity import (
    EmailVerificationRequested,
    InviteCreated,
    PasswordResetRequested,
)

from skiff_notification.email.one_line import one_line

# An organization's name is its owner's words: one line in a subject, and not all of it.
ORGANIZATION_IN_SUBJECT = 80


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def link(public_url: str, path: str, token: str) -> str:
    """`<public_url><path>?token=<token>` (the token URL-encoded)."""
    return f"{public_url.rstrip('/')}{path}?{urlencode({'token': token}, quote_via=quote)}"


def _until(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def verification(public_url: str, event: EmailVerificationRequested) -> Rendered:
    url = link(public_url, "/verify-email", event.token)
    return Rendered(
        subject="Confirm your email address for Skiff",
        text=(
            f"Hello {event.name},\n\n"
            f"Please confirm that {event.email} is your address by opening this link:\n\n"
            f"{url}\n\n"
            f"The link works once, until {_until(event.expires_at)}.\n"
            "If you did not sign up for Skiff, ignore this email.\n"
        ),
    )


def password_reset(public_url: str, event: PasswordResetRequested) -> Rendered:
    url = link(public_url, "/reset-password", event.token)
    return Rendered(
        subject="Reset your Skiff password",
        text=(
            f"Hello {event.name},\n\n"
            "Someone asked to reset the password of your Skiff account. To choose a new one,"
            " open this link:\n\n"
            f"{url}\n\n"
            f"The link works once, until {_until(event.expires_at)}. Resetting signs you out"
            " everywhere.\nIf you did not ask for this, ignore this email: your password"
            " stays as it is.\n"
        ),
    )


def invite(public_url: str, event: InviteCreated) -> Rendered:
    url = link(public_url, "/invites/accept", event.token)
    organization = one_line(event.organization_name, ORGANIZATION_IN_SUBJECT)
    return Rendered(
        subject=f"You are invited to join {organization} on Skiff",
        text=(
            "Hello,\n\n"
            f"You are invited to join {event.organization_name} on Skiff as {event.role}."
            " To accept, sign in (or sign up) with this address and open this link:\n\n"
            f"{url}\n\n"
            f"The invitation is valid until {_until(event.expires_at)}.\n"
        ),
    )

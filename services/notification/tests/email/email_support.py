"""A real SMTP server for the tests (aiosmtpd), and identity's email events."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from skiff_contracts import Envelope, EventPayload, new_id
from skiff_contracts.events.identity import (
    EmailVerificationRequested,
    InviteCreated,
    PasswordResetRequested,
)


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts; `refuse` answers DATA instead."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse is not None:
            return self.refuse
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, *, within: float = 10.0) -> list[EmailMessage]:
        """The first `count` messages (fails if they do not arrive in time)."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.received) < count:
            assert asyncio.get_running_loop().time() < deadline, f"{count} messages not received"
            await asyncio.sleep(0.02)
        return [message for _, message in self.received]


@contextmanager
def smtp_server(port: int, mailbox: Mailbox) -> Iterator[Controller]:
    """An SMTP server on 127.0.0.1:`port` while the block runs."""
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def body_of(message: EmailMessage) -> str:
    content = message.get_content()
    assert isinstance(content, str)
    return content


def expires() -> datetime:
    return datetime.now(UTC) + timedelta(hours=24)


def verification(email: str = "ada@example.com") -> EmailVerificationRequested:
    return EmailVerificationRequested(
        user_id=new_id("usr"), email=email, name="Ada", token="ev_abc+/=xyz", expires_at=expires()
    )


def password_reset(email: str = "ada@example.com") -> PasswordResetRequested:
    return PasswordResetRequested(
        user_id=new_id("usr"), email=email, name="Ada", token="pr_reset123", expires_at=expires()
    )


def invite(
    email: str = "grace@example.com", organization_name: str = "Analytical Engines"
) -> InviteCreated:
    return InviteCreated(
        invite_id=new_id("inv"),
        organization_id=new_id("org"),
        organization_name=organization_name,
        email=email,
        role="admin",
        invited_by=new_id("usr"),
        token="inv_tok456",
        expires_at=expires(),
    )


def from_identity(payload: EventPayload) -> Envelope:
    """The envelope identity's outbox would put around `payload`."""
    return Envelope.wrap(payload, source="skiff/identity")

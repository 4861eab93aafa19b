"""Identity's email events become outbox rows that reach a real SMTP server, retried if down."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_embedded import free_port
from skiff_notification.app import create
from skiff_notification.email.models import OutgoingEmail
from skiff_notification.settings import NotificationSettings
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parent))

from email_support import (
    Mailbox,
    body_of,
    from_identity,
    invite,
    password_reset,
    smtp_server,
    verification,
)
from notification_support import consumed_everything
from skiff_testing.bus import eventually, publish

PUBLIC_URL = "https://skiff.example"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def mailbox(smtp_port: int) -> Iterator[Mailbox]:
    """A running SMTP server that keeps what it receives."""
    box = Mailbox()
    with smtp_server(smtp_port, box):
        yield box


@pytest.fixture
def mail_settings(
    make_settings: Callable[..., NotificationSettings], smtp_port: int
) -> NotificationSettings:
    return make_settings(
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_from="Skiff <no-reply@skiff.example>",
        public_url=PUBLIC_URL,
        email_poll_seconds=0.1,
        email_retry_base_seconds=0.2,
        email_retry_max_seconds=0.5,
    )


@pytest.fixture
async def service(
    mail_settings: NotificationSettings, js: JetStreamContext
) -> AsyncIterator[AsyncTestClient[Any]]:
    """Notification running with its sender pointed at the test's SMTP port."""
    async with AsyncTestClient(create(mail_settings)) as client:
        yield client


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutgoingEmail]:
    async with sessions() as session:
        return list(await session.scalars(select(OutgoingEmail).order_by(OutgoingEmail.id)))


async def test_the_verification_email_reaches_the_user_with_its_link(
    mailbox: Mailbox,
    service: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    event = verification("ada@example.com")
    await publish(js, from_identity(event))

    [message] = await mailbox.wait_for(1)

    assert mailbox.received[0][0] == ["ada@example.com"]
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Skiff <no-reply@skiff.example>"
    assert message["Subject"] == "Confirm your email address for Skiff"
    # The token is URL-encoded in the link (`+`, `/` and `=` would be mangled otherwise).
    assert f"{PUBLIC_URL}/verify-email?token=ev_abc%2B%2F%3Dxyz" in body_of(message)
    await eventually(
        lambda: _sent(sessions), what="the outbox row marked sent after the SMTP answer"
    )
    [row] = await rows(sessions)
    assert (row.kind, row.attempts, row.last_error) == ("email_verification", 1, None)
    assert message["X-Skiff-Email-Id"] == row.id


async def _sent(sessions: async_sessionmaker[AsyncSession]) -> bool:
    found = await rows(sessions)
    return bool(found) and all(row.status == "sent" and row.sent_at for row in found)


async def test_reset_and_invite_emails_carry_their_links(
    mailbox: Mailbox, service: AsyncTestClient[Any], js: JetStreamContext
) -> None:
    await publish(js, from_identity(password_reset("ada@example.com")))
    await publish(js, from_identity(invite("grace@example.com")))

    await mailbox.wait_for(2)

    by_recipient = {tuple(to): message for to, message in mailbox.received}
    reset = by_recipient[("ada@example.com",)]
    assert reset["Subject"] == "Reset your Skiff password"
    assert f"{PUBLIC_URL}/reset-password?token=pr_reset123" in body_of(reset)
    invited = by_recipient[("grace@example.com",)]
    assert invited["Subject"] == "You are invited to join Analytical Engines on Skiff"
    assert f"{PUBLIC_URL}/invites/accept?token=inv_tok456" in body_of(invited)
    assert "as admin" in body_of(invited)


async def test_an_invite_from_a_hostile_organization_name_has_a_one_line_subject(
    mailbox: Mailbox, service: AsyncTestClient[Any], js: JetStreamContext
) -> None:
    # Identity takes any 1-200 characters as a name, line breaks included.
    name = "Evil\r\nBcc: eve@example.com\r\n\r\nBody " + "x" * 190
    await publish(js, from_identity(invite("grace@example.com", organization_name=name[:200])))

    [message] = await mailbox.wait_for(1)

    assert [tuple(to) for to, _ in mailbox.received] == [("grace@example.com",)]
    assert message["Bcc"] is None
    subject = message["Subject"]
    assert subject.startswith("You are invited to join Evil Bcc: eve@example.com Body xxx")
    assert subject.endswith("\u2026 on Skiff")
    assert not {"\r", "\n"} & set(subject)
    assert len(subject) == len("You are invited to join  on Skiff") + 80


async def test_one_event_delivered_twice_sends_one_email(
    mailbox: Mailbox,
    service: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    envelope = from_identity(verification())
    await publish(js, envelope)
    await publish(js, envelope, msg_id="another-publish-id")  # past the stream's de-duplication

    await eventually(lambda: consumed_everything(js), what="both deliveries handled")
    await mailbox.wait_for(1)
    await eventually(lambda: _sent(sessions), what="the row sent")

    assert len(await rows(sessions)) == 1
    assert len(mailbox.received) == 1


async def test_smtp_down_is_retried_with_back_off_then_delivered(
    smtp_port: int,
    service: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await publish(js, from_identity(password_reset("ada@example.com")))

    async def failed_twice() -> bool:
        found = await rows(sessions)
        return bool(found) and found[0].attempts >= 2

    await eventually(failed_twice, what="two failed attempts while SMTP is down")
    [row] = await rows(sessions)
    assert row.status == "pending"
    assert row.sent_at is None
    assert row.last_error

    box = Mailbox()
    with smtp_server(smtp_port, box):
        [message] = await box.wait_for(1)
        await eventually(lambda: _sent(sessions), what="the row sent once SMTP is back")

    assert message["To"] == "ada@example.com"
    [row] = await rows(sessions)
    assert row.attempts >= 3
    assert row.last_error is None


async def test_a_refused_recipient_is_given_up_at_once(
    mailbox: Mailbox,
    service: AsyncTestClient[Any],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    mailbox.refuse = "550 No such mailbox"
    await publish(js, from_identity(verification("nobody@example.com")))

    async def given_up() -> bool:
        found = await rows(sessions)
        return bool(found) and found[0].status == "failed"

    await eventually(given_up, what="the row marked failed")
    [row] = await rows(sessions)
    assert row.attempts == 1
    assert "550" in (row.last_error or "")
    assert mailbox.received == []


async def test_without_an_smtp_host_emails_wait_in_the_outbox(
    make_settings: Callable[..., NotificationSettings],
    js: JetStreamContext,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with AsyncTestClient(create(make_settings())):
        await publish(js, from_identity(verification()))
        await eventually(lambda: consumed_everything(js), what="the event handled")

    [row] = await rows(sessions)
    assert (row.status, row.attempts, row.to_address) == ("pending", 0, "ada@example.com")

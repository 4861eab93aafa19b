"""A deployment that ends is told to its organization's owners, in-app and by email (issue 12)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.billing import CreditsExhausted
from skiff_testing import bus
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parents[1] / "email"))
sys.path.insert(0, str(Path(__file__).parents[1] / "webhooks"))

from deployment_support import completed, failed
from email_support import Mailbox, body_of
from webhook_support import owner_of, owners_known, publish, told, until

PUBLIC_URL = "https://skiff.example"


async def _an_owner(
    js: JetStreamContext, sessions: async_sessionmaker[AsyncSession], email: str
) -> tuple[str, str]:
    org = new_id("org")
    user = await owner_of(js, org, email)
    await until(lambda: owners_known(sessions, org), what="the owner known")
    return org, user


async def test_a_completed_and_a_failed_deployment_reach_the_owner_in_app_and_by_email(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    box, _ = mailbox
    org, _ = await _an_owner(streams, sessions, "dee@example.com")
    good, bad = completed(org), failed(org)
    await publish(streams, good, org)
    await publish(streams, bad, org)

    mails = {mail["Subject"]: mail for mail in await box.wait_for(2)}
    assert set(mails) == {
        "Skiff: deployed Invoice Bot 1.4.0 to production",
        "Skiff: deploying Invoice Bot 1.5.0 to staging failed",
    }
    done = body_of(mails["Skiff: deployed Invoice Bot 1.4.0 to production"])
    assert "production now runs version 1.4.0" in done
    assert good.deployment_id in done
    assert "Credits: 12 reserved, 12 captured, 0 released." in done
    broke = body_of(mails["Skiff: deploying Invoice Bot 1.5.0 to staging failed"])
    assert "in step validate_package" in broke
    assert "manifest.json: entrypoint.command is missing" in broke
    assert "Credits: 3 reserved, 0 captured, 3 released." in broke
    for mail in mails.values():
        assert mail["To"] == "dee@example.com"
        assert mail["List-Unsubscribe"].startswith(
            f"<{PUBLIC_URL}/api/v1/notifications/unsubscribe?token="
        )
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "To stop deployments emails" in body_of(mail)
        assert f"{PUBLIC_URL}/unsubscribe?token=" in body_of(mail)
    # The one-click link (no sign-in) turns off this category's emails, and only those.
    token = parse_qs(urlsplit(mails[next(iter(mails))]["List-Unsubscribe"].strip("<>")).query)
    answer = await service.post(
        "/api/v1/notifications/unsubscribe",
        params={"token": token["token"][0]},
        content=b"List-Unsubscribe=One-Click",
        headers={**gateway_signer.headers(), "content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"category": "deployments", "channel": "email", "enabled": False}

    (note,), _ = await told(sessions, "deployment_completed")
    assert note.title == "Deployed Invoice Bot 1.4.0 to production"
    assert note.data["deployment_id"] == good.deployment_id
    (note,), _ = await told(sessions, "deployment_failed")
    assert note.title == "Deploying Invoice Bot 1.5.0 to staging failed"
    assert note.body == (
        "Step validate_package failed: manifest.json: entrypoint.command is missing."
        " 3 credits were released."
    )


async def test_with_deployment_emails_off_the_owner_gets_the_notice_but_no_email(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    box, _ = mailbox
    org, user = await _an_owner(streams, sessions, "quiet@example.com")
    headers = gateway_signer.headers(gateway_signer.user(org, user))
    off = await service.put(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"deployments": {"email": False}},
    )
    assert off.status_code == 200, off.text
    for payload in (completed(org), failed(org)):
        await publish(streams, payload, org)
    await until(lambda: _noted(sessions, "deployment_failed"), what="the failure's notice")
    await until(lambda: _noted(sessions, "deployment_completed"), what="the completion's notice")

    # An email would have been queued in the notice's transaction: none was. And the sender
    # works: the owner's billing email (still on) arrives, alone.
    out = CreditsExhausted(organization_id=org, balance=0, exhausted_at=datetime.now(UTC))
    await bus.publish(streams, Envelope.wrap(out, source="skiff/billing", organization_id=org))
    (mail,) = await box.wait_for(1)
    assert "out of credits" in mail["Subject"]
    assert len(box.received) == 1
    for kind in ("deployment_completed", "deployment_failed"):
        _, mails = await told(sessions, kind)
        assert mails == [], kind


async def test_a_redelivered_deployment_event_is_told_once(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    box, _ = mailbox
    org, _ = await _an_owner(streams, sessions, "once@example.com")
    payload = failed(org)
    envelope = await publish(streams, payload, org)
    await bus.publish(streams, envelope, msg_id=f"{envelope.id}-again")  # past the stream's dedup
    # The same ending in a new event (an orchestrator that published it twice) is told once too.
    await publish(streams, payload, org)

    await until(
        lambda: bus.consumed_everything(streams, "notification--orchestrator", "ORCHESTRATOR"),
        what="every copy handled",
    )
    (mail,) = await box.wait_for(1)
    assert payload.deployment_id in body_of(mail)
    notes, mails = await told(sessions, "deployment_failed")
    assert len(notes) == 1
    assert len(mails) == 1
    assert len(box.received) == 1


async def _noted(sessions: async_sessionmaker[AsyncSession], kind: str) -> bool:
    notes, _ = await told(sessions, kind)
    return bool(notes)


async def test_a_hostile_app_name_cannot_break_the_subject_or_block_the_consumer(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    box, _ = mailbox
    org, _ = await _an_owner(streams, sessions, "safe@example.com")
    name = "Invoice\r\nBcc: victim@example.com\r\n" + "x" * 400
    await publish(streams, msgspec.structs.replace(completed(org), app_name=name), org)
    (mail,) = await box.wait_for(1)
    assert mail["Bcc"] is None
    assert "\n" not in mail["Subject"]
    assert len(mail["Subject"]) <= 300
    assert mail["Subject"].startswith("Skiff: deployed Invoice Bcc: victim@example.com xxx")
    (note,), _ = await told(sessions, "deployment_completed")
    assert "\n" not in note.title

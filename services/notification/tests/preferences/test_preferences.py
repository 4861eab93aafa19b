"""Preferences per category and channel; owners' emails with one-click unsubscribe (aiosmtpd)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_contracts import Envelope, new_id
from skiff_contracts.events.billing import CreditsExhausted
from skiff_contracts.events.orchestrator import SessionFailed
from skiff_contracts.events.sandbox import SandboxFailed
from skiff_testing import bus
from skiff_testing.services import GatewaySigner
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).parents[1] / "email"))
sys.path.insert(0, str(Path(__file__).parents[1] / "webhooks"))

from email_support import Mailbox, body_of, password_reset
from webhook_support import owner_of, owners_known, told, until

PUBLIC_URL = "https://skiff.example"
CATEGORIES = ["account", "billing", "sessions", "deployments", "runs", "workflows", "webhooks"]


def exhausted(org: str) -> Envelope:
    payload = CreditsExhausted(organization_id=org, balance=0, exhausted_at=datetime.now(UTC))
    return Envelope.wrap(payload, source="skiff/billing", organization_id=org)


async def test_preferences_default_on_and_change_per_category_and_channel(
    service: AsyncTestClient[Any], gateway_signer: GatewaySigner
) -> None:
    headers = gateway_signer.headers(gateway_signer.user(new_id("org"), new_id("usr")))
    shown = (await service.get("/api/v1/notifications/preferences", headers=headers)).json()
    assert [c for c in shown if c != "always_sent"] == CATEGORIES
    assert all(shown[c] == {"in_app": True, "email": True} for c in CATEGORIES)
    assert "password_reset" in shown["always_sent"]
    changed = await service.put(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"billing": {"email": False}, "sessions": {"in_app": False, "email": False}},
    )
    assert changed.status_code == 200, changed.text
    again = (await service.get("/api/v1/notifications/preferences", headers=headers)).json()
    assert again["billing"] == {"in_app": True, "email": False}
    assert again["sessions"] == {"in_app": False, "email": False}
    assert again["webhooks"] == {"in_app": True, "email": True}
    bad = await service.put(
        "/api/v1/notifications/preferences", headers=headers, json={"billing": {"sms": True}}
    )
    assert bad.status_code == 400


async def test_owners_get_an_email_with_one_click_unsubscribe_that_works_without_sign_in(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    sessions: async_sessionmaker[AsyncSession],
    gateway_signer: GatewaySigner,
) -> None:
    box, _ = mailbox
    org = new_id("org")
    owner = await owner_of(streams, org, "olive@example.com")
    await until(lambda: owners_known(sessions, org), what="the owner known")
    await bus.publish(streams, exhausted(org))
    (mail,) = await box.wait_for(1)
    assert mail["To"] == "olive@example.com"
    assert "out of credits" in mail["Subject"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = mail["List-Unsubscribe"].strip("<>")
    assert one_click.startswith(f"{PUBLIC_URL}/api/v1/notifications/unsubscribe?token=")
    assert f"{PUBLIC_URL}/unsubscribe?token=" in body_of(mail)
    token = parse_qs(urlsplit(one_click).query)["token"][0]

    # What a mail client sends: a form body, no credentials (the gateway signs an anonymous caller).
    answer = await service.post(
        "/api/v1/notifications/unsubscribe",
        params={"token": token},
        content=b"List-Unsubscribe=One-Click",
        headers={**gateway_signer.headers(), "content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"category": "billing", "channel": "email", "enabled": False}
    tampered = await service.post(
        "/api/v1/notifications/unsubscribe",
        params={"token": token[:-2] + ("AA" if not token.endswith("AA") else "BB")},
        headers=gateway_signer.headers(),
    )
    assert tampered.status_code == 400
    assert tampered.json()["code"] == "invalid_unsubscribe_token"

    await bus.publish(streams, exhausted(org))
    await until(lambda: _notes(sessions, "credits_exhausted", 2), what="the second in-app note")
    await bus.publish(
        streams, Envelope.wrap(password_reset("olive@example.com"), source="skiff/identity")
    )
    mails = await box.wait_for(2)
    assert "reset" in mails[1]["Subject"].lower(), "no second billing email; the reset still comes"
    assert len(box.received) == 2
    headers = gateway_signer.headers(gateway_signer.user(org, owner))
    prefs = (await service.get("/api/v1/notifications/preferences", headers=headers)).json()
    assert prefs["billing"] == {"in_app": True, "email": False}


async def _notes(sessions: async_sessionmaker[AsyncSession], kind: str, count: int) -> bool:
    notes, _ = await told(sessions, kind)
    return len(notes) >= count


async def test_security_emails_cannot_be_turned_off(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    gateway_signer: GatewaySigner,
) -> None:
    box, _ = mailbox
    headers = gateway_signer.headers(gateway_signer.user(new_id("org"), new_id("usr")))
    off = {category: {"in_app": False, "email": False} for category in CATEGORIES}
    assert (
        await service.put("/api/v1/notifications/preferences", headers=headers, json=off)
    ).status_code == 200
    await bus.publish(
        streams, Envelope.wrap(password_reset("ada@example.com"), source="skiff/identity")
    )
    (mail,) = await box.wait_for(1)
    assert "List-Unsubscribe" not in mail


async def test_a_failed_session_is_told_once_though_two_services_report_it(
    service: AsyncTestClient[Any],
    streams: JetStreamContext,
    mailbox: tuple[Mailbox, int],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    box, _ = mailbox
    org, session_id = new_id("org"), new_id("ses")
    await owner_of(streams, org)
    await until(lambda: owners_known(sessions, org), what="the owner known")
    now = datetime.now(UTC)
    for payload in (
        SandboxFailed(
            session_id=session_id,
            organization_id=org,
            runner_id="r1",
            reason="image missing",
            failed_at=now,
        ),
        SessionFailed(
            session_id=session_id,
            organization_id=org,
            runner_id="r1",
            reason="runner_lost",
            failed_at=now,
        ),
    ):
        source = f"skiff/{payload.event_type.split('.')[0]}"
        await bus.publish(streams, Envelope.wrap(payload, source=source, organization_id=org))
    (mail,) = await box.wait_for(1)
    assert session_id in mail["Subject"]
    await until(lambda: _notes(sessions, "session_failed", 1), what="the in-app note")
    notes, mails = await told(sessions, "session_failed")
    assert len(notes) == 1
    assert len(mails) == 1

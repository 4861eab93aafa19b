"""Playing identity for the directory: API key states and events on the IDENTITY stream."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import nats
from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.identity import ApiKeyCreated, ApiKeyState
from skiff_messaging.streams import ensure_streams


def raw_key() -> str:
    return "sk_live_" + secrets.token_urlsafe(32)


def hashed(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def key_state(raw: str, *, event: type[ApiKeyState] = ApiKeyCreated, **changes: Any) -> ApiKeyState:
    """A key's whole state as identity announces it (version 1, active, every scope)."""
    fields: dict[str, Any] = {
        "key_id": "key_1",
        "organization_id": "org_acme",
        "created_by": "usr_ada",
        "name": "ci",
        "prefix": raw[:12],
        "last4": raw[-4:],
        "secret_hash": hashed(raw),
        "scopes": ["*"],
        "active": True,
        "revoked": False,
        "deleted": False,
        "expires_at": None,
        "rate_limit_per_minute": None,
        "grace_secret_hash": None,
        "grace_until": None,
        "version": 1,
        "changed_at": datetime.now(UTC),
        **changes,
    }
    return event(**fields)


def evolve(state: ApiKeyState, event: type[ApiKeyState], **changes: Any) -> ApiKeyState:
    """The next state of a key: `changes` applied, the version one higher."""
    fields = msgspec.structs.asdict(state)
    fields.update(version=state.version + 1, changed_at=datetime.now(UTC), **changes)
    return event(**fields)


class Identity:
    """Publishes identity's events as its outbox relay does (`Nats-Msg-Id` = event id)."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def publish(self, *payloads: EventPayload) -> None:
        connection = await nats.connect(self.url)
        try:
            js = connection.jetstream()
            await ensure_streams(js, ["IDENTITY"])
            for payload in payloads:
                envelope = Envelope.wrap(payload, source="skiff/identity")
                await js.publish(
                    payload.event_type, envelope.encode(), headers={"Nats-Msg-Id": envelope.id}
                )
        finally:
            await connection.close()


async def eventually(check: Callable[[], bool], *, within: float = 5.0) -> float:
    """Poll `check` until true; returns how long it took (fails after `within` seconds)."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > within:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start

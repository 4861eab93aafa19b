"""The raw token of an invite: identity puts it only in its `identity.invite.created` event."""

from __future__ import annotations

import asyncio
import json

import nats
from nats.js.errors import NotFoundError
from skiff_contracts import decode_envelope

SUBJECT = "identity.invite.created"


async def invite_token(nats_url: str, invite_id: str, *, within: float = 20.0) -> str:
    """Wait for the invite's event (the outbox relays it shortly) and return its token."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        deadline = asyncio.get_running_loop().time() + within
        while True:
            try:
                message = await js.get_last_msg("IDENTITY", SUBJECT)
                data = json.loads(bytes(decode_envelope(message.data or b"").data))
                if data["invite_id"] == invite_id:
                    token: str = data["token"]
                    return token
            except NotFoundError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no {SUBJECT} event for {invite_id} within {within:.0f}s")
            await asyncio.sleep(0.05)
    finally:
        await connection.close()

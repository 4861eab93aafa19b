"""Answers the gateway's lookups of keys its view has not caught up with yet.

The gateway asks only on a miss, and bounds how often (docs/gateway.md): this is one indexed
read by secret hash, current or in grace, answered with the key's whole state.
"""

from __future__ import annotations

from skiff_contracts.events.identity import ApiKeyState
from skiff_contracts.rpc.identity import API_KEY_LOOKUP_SUBJECT, ApiKeyLookup, ApiKeyLookupReply
from skiff_kit.db import AppSessions
from skiff_messaging.errors import ReplyError
from skiff_messaging.service_bus import Responder
from sqlalchemy import or_, select

from skiff_identity.apikeys.models import ApiKey
from skiff_identity.apikeys.service import state_of


class KeyLookups(AppSessions):
    """`rpc.identity.apikeys.lookup`, from the app's database once `bound` to it."""

    def responder(self) -> Responder:
        return Responder(
            subject=API_KEY_LOOKUP_SUBJECT, request_type=ApiKeyLookup, handler=self.answer
        )

    async def answer(self, request: ApiKeyLookup) -> ApiKeyLookupReply:
        if self.factory is None:
            raise ReplyError("unavailable", "identity has no database")
        async with self.factory() as session:
            key = await session.scalar(
                select(ApiKey).where(
                    or_(
                        ApiKey.secret_hash == request.secret_hash,
                        ApiKey.grace_secret_hash == request.secret_hash,
                    )
                )
            )
        return ApiKeyLookupReply(state=None if key is None else state_of(key, ApiKeyState))

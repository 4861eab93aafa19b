"""Shared pieces of the account-security tests: callers with an address, mailed tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from identity_helpers import Identity, events
from skiff_contracts import EventPayload
from skiff_contracts.events.identity import EmailVerificationRequested, PasswordResetRequested
from skiff_identity.settings import IdentitySettings
from skiff_kit.db import create_engine, create_session_factory
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

P = TypeVar("P", bound=EventPayload)
IP = "203.0.113.7"


def from_address(identity: Identity, ip: str = IP) -> dict[str, str]:
    """Headers of an anonymous request the gateway forwards from `ip`."""
    principal = Principal(
        organization_id="", via="anonymous", scopes=(), client_ip=ip, request_id="req_test"
    )
    return identity.signer.headers(principal)


async def post(identity: Identity, path: str, body: Any, *, ip: str = IP) -> httpx.Response:
    return await identity.http.post(path, json=body, headers=from_address(identity, ip))


async def login(identity: Identity, email: str, password: str, *, ip: str = IP) -> httpx.Response:
    return await post(identity, "/api/v1/auth/login", {"email": email, "password": password}, ip=ip)


async def payloads(nats_url: str, kind: type[P], count: int) -> list[P]:
    return [event.payload(kind) for event in await events(nats_url, kind.event_type, count)]


async def verification_token(nats_url: str, count: int = 1) -> str:
    """The token of the `count`-th verification email identity asked for."""
    return (await payloads(nats_url, EmailVerificationRequested, count))[-1].token


async def reset_token(nats_url: str, count: int = 1) -> str:
    """The token of the `count`-th reset email identity asked for."""
    return (await payloads(nats_url, PasswordResetRequested, count))[-1].token


async def in_session(
    settings: IdentitySettings, work: Callable[[AsyncSession], Awaitable[Any]]
) -> Any:
    """Run `work` in one committed transaction of identity's own role."""
    engine = create_engine(settings.database_url or "", schema="identity")
    try:
        async with create_session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()

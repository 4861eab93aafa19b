"""Shared pieces of identity's tests: a client that plays the gateway, and the IDENTITY stream."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from http.cookies import Morsel, SimpleCookie
from typing import Any

import httpx
import jwt
import nats
from litestar import Litestar
from litestar.testing import AsyncTestClient
from nats.js.errors import FetchTimeoutError
from skiff_contracts import Envelope
from skiff_contracts.envelope import decode_envelope
from skiff_kit.internal_token import Principal
from skiff_testing.services import GatewaySigner

PASSWORD = "correct-horse-42"
_emails = itertools.count(1)


def new_email(name: str = "ada") -> str:
    """An address no other test of the run uses."""
    return f"{name}-{next(_emails)}@example.com"


def set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    """Every cookie the response sets, by name, with its attributes."""
    cookies: dict[str, Morsel[str]] = {}
    for header in response.headers.get_list("set-cookie"):
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        cookies.update(parsed)
    return cookies


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The API.md error shape `{error, code, details, request_id}`; returns the body."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "code", "details", "request_id"}
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    return body


class Identity:
    """The identity service under a test client; requests carry the gateway's internal token."""

    def __init__(
        self, http: AsyncTestClient[Litestar], signer: GatewaySigner, access_public_key: str
    ) -> None:
        self.http = http
        self.signer = signer
        self.access_public_key = access_public_key

    async def post_anonymously(self, path: str, body: Any) -> httpx.Response:
        """A POST as the gateway forwards it for a caller without credentials."""
        return await self.http.post(path, json=body, headers=self.signer.headers())

    async def register(
        self, email: str | None = None, *, password: str = PASSWORD, name: str = "Ada", **extra: Any
    ) -> httpx.Response:
        address = new_email() if email is None else email
        body = {"email": address, "password": password, "name": name, **extra}
        return await self.post_anonymously("/api/v1/auth/register", body)

    async def registered(self, email: str | None = None, **extra: Any) -> dict[str, Any]:
        """Register (asserting the 201) and return the body `{user, organization}`."""
        response = await self.register(email, **extra)
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.post_anonymously(
            "/api/v1/auth/login", {"email": email, "password": password}
        )

    async def session(self, email: str) -> dict[str, Any]:
        """Log in (asserting the 200) and return `session`: access and refresh token."""
        response = await self.login(email)
        assert response.status_code == 200, response.text
        session: dict[str, Any] = response.json()["session"]
        return session

    async def refresh(self, refresh_token: str) -> httpx.Response:
        return await self.post_anonymously("/api/v1/auth/refresh", {"refresh_token": refresh_token})

    def claims(self, access_token: str) -> dict[str, Any]:
        """The claims of an access token, verified as the gateway verifies them."""
        claims: dict[str, Any] = jwt.decode(
            access_token,
            self.access_public_key,
            algorithms=["EdDSA"],
            audience="skiff",
            issuer="skiff-identity",
        )
        return claims

    def as_user(self, access_token: str) -> dict[str, str]:
        """Headers of a request the gateway forwards for the holder of `access_token`."""
        claims = self.claims(access_token)
        principal = Principal(
            organization_id=claims["org"], user_id=claims["sub"], role=claims["role"], via="session"
        )
        return self.signer.headers(principal)

    async def me(self, access_token: str) -> httpx.Response:
        return await self.http.get("/api/v1/auth/me", headers=self.as_user(access_token))

    async def logout(self, access_token: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            "/api/v1/auth/logout", json=body, headers=self.as_user(access_token)
        )


async def stream_events(nats_url: str, count: int) -> list[Envelope]:
    """The first `count` events of the IDENTITY stream (fails if they do not come in 10 s)."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        subscription = await js.pull_subscribe("identity.>", stream="IDENTITY")
        events: list[Envelope] = []
        async with asyncio.timeout(10):
            while len(events) < count:
                try:
                    messages = await subscription.fetch(count - len(events), timeout=1)
                except FetchTimeoutError:
                    continue
                for message in messages:
                    assert message.headers is not None
                    envelope = decode_envelope(message.data)
                    assert message.headers["Nats-Msg-Id"] == envelope.id
                    assert message.subject == envelope.type
                    events.append(envelope)
        return events
    finally:
        await connection.close()


async def events(nats_url: str, subject: str, count: int) -> list[Envelope]:
    """The first `count` events on `subject` in IDENTITY (fails if they do not come in 10 s)."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        subscription = await js.pull_subscribe(subject, stream="IDENTITY")
        found: list[Envelope] = []
        async with asyncio.timeout(10):
            while len(found) < count:
                try:
                    messages = await subscription.fetch(count - len(found), timeout=0.5)
                except FetchTimeoutError:
                    continue
                found += [decode_envelope(message.data) for message in messages]
        return found
    finally:
        await connection.close()


async def stream_size(nats_url: str) -> int:
    """How many events the IDENTITY stream holds."""
    connection = await nats.connect(nats_url)
    try:
        info = await connection.jetstream().stream_info("IDENTITY")
        return int(info.state.messages)
    finally:
        await connection.close()


StartIdentity = Callable[..., AbstractAsyncContextManager[Identity]]
"""`start_identity(**setting_overrides)`: runs another identity for one test."""

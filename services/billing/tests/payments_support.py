"""The stand-ins of Stripe and Polar for billing's tests, served on a loopback port, sending
their webhooks into the billing app under test (gateway-signed, as the gateway forwards them)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from billing_support import member, open_account
from litestar.testing import AsyncTestClient
from skiff_billing.models import Account, LedgerEntry, Purchase
from skiff_standins import StandIns, create_app
from skiff_testing.services import GatewaySigner
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

STRIPE_SECRET = "whsec_billing_tests_stripe"
POLAR_SECRET = "whsec_cG9sYXItdGVzdHMtc2VjcmV0LWtleQ=="  # Standard Webhooks (current) form
POLAR_LEGACY_SECRET = "polar_whs_legacy_plain_secret"  # Polar's older plain-string form
FAST_RETRIES = (0.2, 0.5, 1.0, 2.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ClientSender:
    """Delivers webhooks to the app under test through its test client."""

    def __init__(self, path: str, signer: GatewaySigner) -> None:
        self.path = path
        self.signer = signer
        self.client: AsyncTestClient[Any] | None = None

    async def __call__(self, headers: dict[str, str], body: bytes) -> int:
        if self.client is None:
            raise ConnectionRefusedError("billing is not running")
        response = await self.client.post(
            self.path,
            content=body,
            headers={**headers, **self.signer.headers(), "content-type": "application/json"},
        )
        return response.status_code


@dataclass
class Providers:
    """The running stand-ins and the billing settings that point at them."""

    standins: StandIns
    url: str
    stripe_sender: ClientSender
    polar_sender: ClientSender

    def settings(self, polar_secret: str = POLAR_SECRET) -> dict[str, Any]:
        return {
            "stripe_api_key": "sk_test_standin",
            "stripe_api_base": f"{self.url}/stripe",
            "stripe_webhook_secret": STRIPE_SECRET,
            "polar_api_key": "polar_oat_standin",
            "polar_api_base": f"{self.url}/polar",
            "polar_webhook_secret": polar_secret,
            "polar_product_id": "prod_credits",
        }

    def attach(self, client: AsyncTestClient[Any] | None) -> None:
        self.stripe_sender.client = client
        self.polar_sender.client = client


@contextlib.asynccontextmanager
async def serving(
    signer: GatewaySigner, polar_secret: str = POLAR_SECRET
) -> AsyncIterator[Providers]:
    """Both stand-ins on a free loopback port until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stripe_sender = ClientSender("/webhooks/stripe", signer)
    polar_sender = ClientSender("/webhooks/polar", signer)
    standins = StandIns.create(
        public_url=url,
        stripe_webhook_secret=STRIPE_SECRET,
        polar_webhook_secret=polar_secret,
        stripe_sender=stripe_sender,
        polar_sender=polar_sender,
        retry_delays=FAST_RETRIES,
    )
    config = uvicorn.Config(create_app(standins), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    # Its own thread and loop: Litestar's test client blocks the test's loop during a request,
    # and billing calls the stand-in while answering one.
    thread = threading.Thread(target=asyncio.run, args=(server.serve(),), daemon=True)
    thread.start()
    while not server.started:  # noqa: ASYNC110 - set by the server's own thread
        await asyncio.sleep(0.01)
    try:
        yield Providers(standins, url, stripe_sender, polar_sender)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


async def press(url: str, action: str) -> httpx.Response:
    """What a customer does on the hosted checkout page: press a button of its form."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        assert page.status_code == 200
        assert f'value="{action}"' in page.text, page.text
        return await browser.post(url, data={"action": action})


async def state(sessions: async_sessionmaker[AsyncSession], org: str) -> tuple[int, list[Any]]:
    """(balance, [(type, amount, reference)]) of the organization."""
    async with sessions() as session:
        account = await session.scalar(select(Account).where(Account.organization_id == org))
        entries = await session.scalars(
            select(LedgerEntry).where(LedgerEntry.organization_id == org).order_by(LedgerEntry.id)
        )
        assert account is not None
        return account.balance, [(e.type, e.amount, e.reference) for e in entries]


async def purchase(sessions: async_sessionmaker[AsyncSession], purchase_id: str) -> Purchase:
    async with sessions() as session:
        found = await session.get(Purchase, purchase_id)
        assert found is not None
        return found


@dataclass
class Shop:
    """Billing on the stand-ins as a test drives it: customers, their checkouts and balances."""

    client: AsyncTestClient[Any]
    providers: Providers
    sessions: async_sessionmaker[AsyncSession]
    signer: GatewaySigner

    async def customer(self, bonus: int = 100) -> str:
        """A new organization whose account billing opened with `bonus` credits."""
        return await open_account(self.sessions, bonus=bonus)

    def headers(self, org: str) -> dict[str, str]:
        """A member of `org`, as the gateway forwards them."""
        return self.signer.headers(member(org))

    async def checkout(
        self, org: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> httpx.Response:
        """POST /api/v1/billing/checkout (1,000 credits unless `body` says), with a key."""
        headers = {**self.headers(org), **({"idempotency-key": key} if key else {})}
        return await self.client.post(
            "/api/v1/billing/checkout", json=body or {"package_id": "pkg_1000"}, headers=headers
        )

    async def started(self, org: str, **body: Any) -> dict[str, Any]:
        """A checkout that must start (201): its answer."""
        response = await self.checkout(org, body or None)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def balance(self, org: str) -> dict[str, Any]:
        """GET /api/v1/credits/balance as a member of `org`."""
        answer: dict[str, Any] = (
            await self.client.get("/api/v1/credits/balance", headers=self.headers(org))
        ).json()
        return answer

    async def settled(self) -> None:
        """Every webhook the stand-ins sent is delivered (or given up)."""
        await self.providers.standins.settle()

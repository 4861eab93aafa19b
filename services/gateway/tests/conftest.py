"""Fixtures: the gateway in front of real upstreams (an echo server), with its own keys.

The gateway needs no PostgreSQL: it verifies access tokens with identity's public key, keeps
its view of API keys in NATS, signs internal tokens with its own private key and forwards.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from skiff_embedded import free_port
from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings
from skiff_kit.internal_token import InternalTokenVerifier, generate_keypair

sys.path.insert(0, str(Path(__file__).parent))

from gateway_helpers import ACCESS_KEY_ID, AccessTokens, Echo, Gateway, StartGateway, serving

SERVICES = ("identity", "billing", "orchestrator", "notification")


@pytest.fixture(scope="session")
def access_tokens() -> AccessTokens:
    """Plays identity: signs access tokens the gateway trusts."""
    return AccessTokens()


@pytest.fixture(scope="session")
def internal_keys() -> tuple[str, str]:
    """(private PEM, public PEM) the gateway signs internal tokens with."""
    return generate_keypair()


@pytest.fixture(scope="session")
def internal_verifier(internal_keys: tuple[str, str]) -> InternalTokenVerifier:
    """Checks internal tokens as a service behind the gateway does."""
    return InternalTokenVerifier({"gw1": internal_keys[1]})


@pytest.fixture(scope="session")
def echo() -> Echo:
    return Echo()


@pytest.fixture(scope="session")
async def echo_url(echo: Echo) -> AsyncIterator[str]:
    """A real HTTP upstream that echoes requests (one for the run: it keeps no state)."""
    async with serving(echo) as url:
        yield url


@pytest.fixture
def gateway_settings(
    echo_url: str, access_tokens: AccessTokens, internal_keys: tuple[str, str], nats_url: str
) -> Callable[..., GatewaySettings]:
    """`gateway_settings(**overrides)`: every service answered by the echo upstream.

    The gateway's directory of API keys lives in NATS (emptied for each test).
    """

    def make(**overrides: Any) -> GatewaySettings:
        settings = GatewaySettings(
            upstreams=json.dumps({name: echo_url for name in SERVICES}),
            access_token_public_keys=json.dumps({ACCESS_KEY_ID: access_tokens.public_key}),
            internal_private_key=internal_keys[0],
            internal_key_id="gw1",
            nats_url=nats_url,
            usage_report_seconds=0.2,
            upstream_timeout_seconds=5.0,
            log_format="console",
            log_level="warning",
        )
        return msgspec.structs.replace(settings, **overrides)

    return make


@pytest.fixture
def start_gateway(gateway_settings: Callable[..., GatewaySettings]) -> StartGateway:
    """`async with start_gateway(**overrides) as client:` runs a gateway (lifespan too)."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Gateway]:
        async with AsyncTestClient(create(gateway_settings(**overrides))) as client:
            yield client

    return start


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> AsyncIterator[Gateway]:
    """The gateway under a test client."""
    async with start_gateway() as client:
        yield client


@pytest.fixture
async def gateway_url(gateway_settings: Callable[..., GatewaySettings]) -> AsyncIterator[str]:
    """The gateway served by uvicorn on a real port (for streaming both ways)."""
    async with serving(create(gateway_settings())) as url:
        yield url


@pytest.fixture
def absent_url() -> str:
    """The URL of an upstream that is down: nothing listens on its port."""
    return f"http://127.0.0.1:{free_port()}"

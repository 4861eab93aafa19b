"""Fixtures of the OAuth tests: the local fake providers, and identity pointed at them."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from identity_helpers import Identity, StartIdentity

sys.path.insert(0, str(Path(__file__).parent))

from oauth_fake_provider import FakeProviders, ServedProviders
from oauth_flow import OAuthFlow

APP_ORIGIN = "https://app.skiff.example"


@pytest.fixture(scope="session")
def served_providers() -> Iterator[FakeProviders]:
    """The fake GitHub and Google, one server for the whole run."""
    served = ServedProviders()
    fake = served.start()
    yield fake
    served.stop()


@pytest.fixture
def providers(served_providers: FakeProviders) -> FakeProviders:
    """The fake providers, with nobody signed in and no code or token issued yet."""
    served_providers.reset()
    return served_providers


@pytest.fixture
async def oauth_identity(
    start_identity: StartIdentity, providers: FakeProviders
) -> AsyncIterator[Identity]:
    """Identity with both providers configured against the fakes."""
    async with start_identity(
        **providers.settings(), oauth_redirect_origins=f"{APP_ORIGIN}, http://127.0.0.1:3000"
    ) as running:
        yield running


@pytest.fixture
def flow(oauth_identity: Identity, providers: FakeProviders) -> OAuthFlow:
    """Drives a browser through authorize → provider → callback."""
    return OAuthFlow(oauth_identity, providers)

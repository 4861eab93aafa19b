"""Identity as a process: ready when PostgreSQL and NATS are, refusing to start without its key."""

from __future__ import annotations

import msgspec
import pytest
from identity_helpers import Identity
from skiff_identity.app import create
from skiff_identity.settings import IdentitySettings
from skiff_kit.settings import SettingsError


async def test_identity_is_ready_with_its_database_and_nats(identity: Identity) -> None:
    response = await identity.http.get("/ready")

    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "nats": "ok"}


async def test_the_openapi_document_lists_the_auth_routes(identity: Identity) -> None:
    paths = (await identity.http.get("/openapi.json")).json()["paths"]

    for route in ("register", "login", "refresh", "logout", "me"):
        assert f"/api/v1/auth/{route}" in paths


def test_identity_will_not_start_without_its_signing_key(
    identity_settings: IdentitySettings,
) -> None:
    settings = msgspec.structs.replace(identity_settings, access_token_private_key=" ")

    with pytest.raises(SettingsError, match="SKIFF_ACCESS_TOKEN_PRIVATE_KEY"):
        create(settings)

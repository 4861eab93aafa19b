"""The audit log: entries carry actor, target, IP and request id; only admins read them."""

from __future__ import annotations

from typing import Any

import asyncpg
from identity_helpers import Identity, assert_error
from skiff_identity.audit import service
from skiff_identity.settings import IdentitySettings
from skiff_kit.db import create_engine, create_session_factory
from skiff_kit.internal_token import Principal


async def _record(settings: IdentitySettings, entries: list[dict[str, Any]]) -> None:
    engine = create_engine(settings.database_url or "", schema="identity")
    try:
        async with create_session_factory(engine)() as session:
            for entry in entries:
                await service.record(session, **entry)
            await session.commit()
    finally:
        await engine.dispose()


def _admin(org: str, user: str = "usr_admin", role: str = "admin") -> Principal:
    return Principal(
        organization_id=org,
        user_id=user,
        role=role,
        via="session",
        request_id="req_1",
        client_ip="203.0.113.9",
    )


async def test_entries_are_listed_newest_first_with_who_where_and_which_request(
    identity: Identity, identity_settings: IdentitySettings, database: asyncpg.Connection
) -> None:
    admin = _admin("org_a")
    await _record(
        identity_settings,
        [
            {
                "action": "apikey.created",
                "principal": admin,
                "target_type": "api_key",
                "target_id": "key_1",
            },
            {
                "action": "apikey.revoked",
                "principal": admin,
                "target_type": "api_key",
                "target_id": "key_1",
                "details": {"reason": "leaked"},
            },
            {
                "action": "auth.login_failed",
                "principal": None,
                "organization_id": "org_a",
                "actor_id": "usr_x",
            },
            {"action": "apikey.created", "principal": _admin("org_b")},
        ],
    )
    response = await identity.http.get("/api/v1/audit-log", headers=identity.signer.headers(admin))
    assert response.status_code == 200, response.text
    entries = response.json()["data"]
    assert [e["action"] for e in entries] == [
        "auth.login_failed",
        "apikey.revoked",
        "apikey.created",
    ]
    revoked = entries[1]
    assert (revoked["actor_type"], revoked["actor_id"]) == ("user", "usr_admin")
    assert (revoked["target_type"], revoked["target_id"]) == ("api_key", "key_1")
    assert (revoked["ip"], revoked["request_id"]) == ("203.0.113.9", "req_1")
    assert revoked["details"] == {"reason": "leaked"}
    assert entries[0]["actor_type"] == "anonymous"


async def test_filters_and_pagination(
    identity: Identity, identity_settings: IdentitySettings, database: asyncpg.Connection
) -> None:
    admin = _admin("org_f")
    await _record(
        identity_settings,
        [
            {
                "action": f"apikey.{verb}",
                "principal": admin,
                "target_type": "api_key",
                "target_id": f"key_{i}",
            }
            for i, verb in enumerate(["created", "revoked", "rotated"])
        ]
        + [
            {
                "action": "member.removed",
                "principal": admin,
                "target_type": "user",
                "target_id": "usr_2",
            }
        ],
    )
    headers = identity.signer.headers(admin)
    family = await identity.http.get("/api/v1/audit-log?action=apikey.*", headers=headers)
    assert [e["action"] for e in family.json()["data"]] == [
        "apikey.rotated",
        "apikey.revoked",
        "apikey.created",
    ]
    by_entity = await identity.http.get(
        "/api/v1/audit-log?entity=user&entity_id=usr_2", headers=headers
    )
    assert [e["action"] for e in by_entity.json()["data"]] == ["member.removed"]
    first = (await identity.http.get("/api/v1/audit-log?limit=3", headers=headers)).json()
    assert len(first["data"]) == 3
    assert first["next_cursor"]
    rest = await identity.http.get(
        f"/api/v1/audit-log?limit=3&cursor={first['next_cursor']}", headers=headers
    )
    assert [e["action"] for e in rest.json()["data"]] == ["apikey.created"]
    assert rest.json()["next_cursor"] is None


async def test_members_and_viewers_cannot_read_it(identity: Identity) -> None:
    for role in ("member", "viewer"):
        response = await identity.http.get(
            "/api/v1/audit-log", headers=identity.signer.headers(_admin("org_r", role=role))
        )
        assert_error(response, 403, "role_required")

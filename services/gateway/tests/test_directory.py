"""The directory: identity's events projected into NATS KV, followed by every replica."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta

import pytest
from directory_helpers import Identity, eventually, evolve, hashed, key_state, raw_key
from skiff_contracts.events.identity import (
    ApiKeyRevoked,
    ApiKeyRotated,
    ApiKeyUpdated,
    MembershipChanged,
    UserSessionsRevoked,
)
from skiff_gateway.directory.runtime import Directory


@pytest.fixture
async def replicas(nats_url: str) -> AsyncIterator[list[Directory]]:
    """Two gateway replicas' directories on one NATS."""
    async with AsyncExitStack() as stack:
        running = []
        for n in range(2):
            directory = Directory(nats_url=nats_url, bucket="dir_test", replica=f"gw-{n}")
            await stack.enter_async_context(directory.lifespan(None))
            running.append(directory)
        yield running


async def test_a_key_reaches_every_replica_and_a_revoke_follows_within_a_second(
    replicas: list[Directory], nats_url: str
) -> None:
    identity = Identity(nats_url)
    raw = raw_key()
    created = key_state(raw)
    await identity.publish(created)
    await eventually(lambda: all(r.view.key(hashed(raw)) for r in replicas))

    await identity.publish(evolve(created, ApiKeyRevoked, revoked=True))

    def refused() -> bool:
        return all(r.view.keys["key_1"].revoked for r in replicas)

    await eventually(refused, within=1.0)


async def test_a_late_older_state_never_wins(replicas: list[Directory], nats_url: str) -> None:
    identity = Identity(nats_url)
    raw = raw_key()
    v1 = key_state(raw)
    v2 = evolve(v1, ApiKeyUpdated, name="two", active=False)
    v3 = evolve(v2, ApiKeyUpdated, name="three", active=True)

    await identity.publish(v1, v3, v2, v1)
    marker = key_state(raw_key(), key_id="key_marker")
    await identity.publish(marker)  # published after all of them: once it is seen, they were
    await eventually(lambda: all("key_marker" in r.view.keys for r in replicas))

    assert [r.view.keys["key_1"].active for r in replicas] == [True, True]
    assert all(r.view.key(hashed(raw)) for r in replicas)


async def test_a_rotated_secret_maps_to_its_key_until_replaced(
    replicas: list[Directory], nats_url: str
) -> None:
    identity = Identity(nats_url)
    old, new = raw_key(), raw_key()
    created = key_state(old)
    grace = datetime.now(UTC) + timedelta(hours=1)
    rotated = evolve(
        created,
        ApiKeyRotated,
        secret_hash=hashed(new),
        grace_secret_hash=hashed(old),
        grace_until=grace,
    )
    await identity.publish(created, rotated)
    view = replicas[1].view
    await eventually(lambda: view.key(hashed(new)) is not None)

    assert view.key(hashed(new)) == (view.keys["key_1"], False)
    assert view.key(hashed(old)) == (view.keys["key_1"], True)
    third = raw_key()
    await identity.publish(
        evolve(rotated, ApiKeyRotated, secret_hash=hashed(third), grace_secret_hash=hashed(new))
    )
    await eventually(lambda: view.key(hashed(third)) is not None)
    assert view.key(hashed(old)) is None


async def test_memberships_and_session_revocations_are_kept_newest_first(
    replicas: list[Directory], nats_url: str
) -> None:
    identity = Identity(nats_url)
    now = datetime.now(UTC)
    await identity.publish(
        MembershipChanged(organization_id="org_b", user_id="usr_1", role="admin", changed_at=now),
        MembershipChanged(
            organization_id="org_b", user_id="usr_1", role="viewer", changed_at=now - timedelta(1)
        ),
        MembershipChanged(organization_id="org_c", user_id="usr_1", role=None, changed_at=now),
        UserSessionsRevoked(user_id="usr_1", revoked_before=now, reason="password_reset"),
        UserSessionsRevoked(user_id="usr_1", revoked_before=now - timedelta(1), reason="logout"),
    )
    view = replicas[0].view
    await eventually(lambda: ("usr_1", "org_c") in view.roles and "usr_1" in view.revoked_before)

    assert view.roles[("usr_1", "org_b")] == "admin"
    assert view.roles[("usr_1", "org_c")] is None
    assert view.revoked_before["usr_1"] == now.timestamp()


async def test_a_fresh_replica_loads_the_view_from_the_bucket_alone(nats_url: str) -> None:
    raw = raw_key()
    async with Directory(nats_url=nats_url, bucket="dir_test").lifespan(None) as _:
        pass
    first = Directory(nats_url=nats_url, bucket="dir_test")
    async with first.lifespan(None):
        await Identity(nats_url).publish(key_state(raw))
        await eventually(lambda: first.view.key(hashed(raw)) is not None)

    # Nobody publishes any more (identity is down); the bucket alone feeds a new replica.
    fresh = Directory(nats_url=nats_url, bucket="dir_test")
    async with fresh.lifespan(None):
        assert fresh.view.loaded
        assert fresh.view.key(hashed(raw)) is not None

"""A sign-up as the directory sees it: the organization and its owner's membership, same time.

Identity announces a registration with `identity.organization.created` and, like any other
membership change, `identity.membership.changed` (owner). Both land on the same bucket record
with the same time; later changes must still win over either, even if one comes again late.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from directory_helpers import Identity, eventually
from skiff_contracts.events.identity import MembershipChanged, OrganizationCreated
from skiff_gateway.directory.runtime import Directory

ORG, USER = "org_personal", "usr_new"


@pytest.fixture
async def directory(nats_url: str) -> AsyncIterator[Directory]:
    running = Directory(nats_url=nats_url, bucket="dir_registration", replica="gw-0")
    async with running.lifespan(None):
        yield running


def registration(at: datetime) -> tuple[OrganizationCreated, MembershipChanged]:
    created = OrganizationCreated(
        organization_id=ORG,
        name="Ada's",
        slug="ada",
        owner_user_id=USER,
        personal=True,
        created_at=at,
    )
    return created, MembershipChanged(
        organization_id=ORG, user_id=USER, role="owner", changed_at=at
    )


async def test_a_registration_makes_the_user_owner_of_their_organization(
    directory: Directory, nats_url: str
) -> None:
    await Identity(nats_url).publish(*registration(datetime.now(UTC)))

    await eventually(lambda: (USER, ORG) in directory.view.roles)
    assert directory.view.roles[(USER, ORG)] == "owner"


async def test_a_later_change_beats_a_late_copy_of_the_registration(
    directory: Directory, nats_url: str
) -> None:
    identity = Identity(nats_url)
    at = datetime.now(UTC)
    created, owner = registration(at)
    await identity.publish(created, owner)
    await identity.publish(
        MembershipChanged(
            organization_id=ORG, user_id=USER, role=None, changed_at=at + timedelta(seconds=1)
        )
    )
    await eventually(lambda: directory.view.roles.get((USER, ORG), "owner") is None)

    # Re-published late, then a marker: once the marker is in, the late copy was handled.
    await identity.publish(
        *registration(at),
        MembershipChanged(organization_id=ORG, user_id="usr_marker", role="viewer", changed_at=at),
    )

    await eventually(lambda: ("usr_marker", ORG) in directory.view.roles)
    assert directory.view.roles[(USER, ORG)] is None

"""Races, run on two real database sessions at once (the test client serializes requests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from org_helpers import Acme, Orgs, Person, events_of
from skiff_identity.organizations import invites, members
from skiff_identity.organizations.acting import acting_in
from skiff_identity.settings import IdentitySettings
from skiff_kit.db import create_engine, create_session_factory
from skiff_kit.errors import SkiffError
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

Step = Callable[[AsyncSession], Awaitable[object]]


@pytest.fixture
async def sessions(
    identity_settings: IdentitySettings,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(identity_settings.database_url or "", schema="identity")
    yield create_session_factory(engine)
    await engine.dispose()


async def _attempt(sessions: async_sessionmaker[AsyncSession], step: Step) -> str:
    """`ok` once committed, else the domain error's code (one transaction, as a request)."""
    async with sessions() as session:
        try:
            await step(session)
        except SkiffError as error:
            await session.rollback()
            return error.code
        await session.commit()
        return "ok"


def _user(person: Person, org: str) -> Principal:
    return Principal(organization_id=org, user_id=person.id, role="owner", via="session")


async def test_two_parallel_accepts_consume_the_invite_once(
    orgs: Orgs, acme: Acme, nats_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    eve = await orgs.person("eve")
    created = await orgs.call(
        "POST", "/api/v1/invites", acme.bob, acme.id, {"email": eve.email, "role": "member"}
    )
    [event] = await events_of(nats_url, "identity.invite.created", 1)

    async def accept(session: AsyncSession) -> object:
        return await invites.accept(session, _user(eve, eve.personal_org), token=event["token"])

    outcomes = await asyncio.gather(*(_attempt(sessions, accept) for _ in range(4)))

    assert created.status_code == 201
    assert sorted(outcomes) == ["invite_used", "invite_used", "invite_used", "ok"]
    assert await orgs.role_of(acme.id, eve) == "member"


async def test_two_owners_demoting_each_other_at_once_leave_one_owner(
    orgs: Orgs, acme: Acme, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await orgs.call("PATCH", f"/api/v1/members/{acme.bob.id}", acme.ada, acme.id, {"role": "owner"})

    def demote(actor: Person, target: Person) -> Step:
        async def step(session: AsyncSession) -> object:
            acting = await acting_in(session, _user(actor, acme.id), lock=True)
            return await members.change_role(session, acting, user_id=target.id, role="member")

        return step

    outcomes = await asyncio.gather(
        _attempt(sessions, demote(acme.ada, acme.bob)),
        _attempt(sessions, demote(acme.bob, acme.ada)),
    )

    # The second waits for the first, then finds its actor is no longer an owner.
    assert sorted(outcomes) == ["ok", "role_required"]
    roles = {await orgs.role_of(acme.id, acme.ada), await orgs.role_of(acme.id, acme.bob)}
    assert roles == {"owner", "member"}

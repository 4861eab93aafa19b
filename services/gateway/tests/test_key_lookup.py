"""A key the view has not heard of yet is asked of identity once, within bounds (issue 10)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import msgspec
import pytest
from directory_helpers import evolve, hashed, key_state, raw_key
from nats.aio.client import Client as NATS
from skiff_contracts.events.identity import ApiKeyRevoked, ApiKeyState
from skiff_contracts.rpc.identity import API_KEY_LOOKUP_SUBJECT, ApiKeyLookup, ApiKeyLookupReply
from skiff_gateway.directory.lookup import KeyLookup
from skiff_gateway.directory.view import DirectoryView
from skiff_messaging import connect
from skiff_messaging.rpc import serve


class FakeIdentity:
    """Answers lookups from a dict of states by secret hash, counting what it is asked."""

    def __init__(self) -> None:
        self.states: dict[str, ApiKeyState] = {}
        self.asked: list[str] = []

    async def answer(self, request: ApiKeyLookup) -> ApiKeyLookupReply:
        self.asked.append(request.secret_hash)
        return ApiKeyLookupReply(state=self.states.get(request.secret_hash))


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    connection = await connect(nats_url, name="lookup-tests")
    yield connection
    await connection.close()


@pytest.fixture
async def identity(nc: NATS) -> AsyncIterator[FakeIdentity]:
    fake = FakeIdentity()
    subscription = await serve(
        nc, API_KEY_LOOKUP_SUBJECT, ApiKeyLookup, fake.answer, queue="identity"
    )
    yield fake
    await subscription.unsubscribe()


def lookup_of(view: DirectoryView, nc: NATS | None, **options: float) -> KeyLookup:
    return KeyLookup(view, lambda: nc, **options)


async def test_a_key_created_a_moment_ago_is_found_and_kept(
    nc: NATS, identity: FakeIdentity
) -> None:
    raw = raw_key()
    identity.states[hashed(raw)] = key_state(raw)
    view = DirectoryView()
    lookup = lookup_of(view, nc)

    assert await lookup.find(hashed(raw))
    assert view.key(hashed(raw)) is not None
    assert await lookup.find(hashed(raw))  # now from the view: identity is not asked again
    assert identity.asked == [hashed(raw)]


async def test_an_unknown_key_is_asked_about_once_then_remembered(
    nc: NATS, identity: FakeIdentity
) -> None:
    lookup = lookup_of(DirectoryView(), nc, negative_seconds=60)
    wrong = hashed(raw_key())

    answers = [await lookup.find(wrong) for _ in range(50)]

    assert answers == [False] * 50
    assert identity.asked == [wrong]
    assert lookup.counts["remembered"] == 49


async def test_lookups_beyond_the_budget_are_refused_without_asking(
    nc: NATS, identity: FakeIdentity
) -> None:
    lookup = lookup_of(DirectoryView(), nc, per_second=5)

    answers = [await lookup.find(hashed(raw_key())) for _ in range(40)]

    assert answers == [False] * 40
    assert len(identity.asked) <= 6  # the bucket's 5, and one more refilled meanwhile
    assert lookup.counts["over_budget"] >= 34


async def test_keys_that_exist_do_not_spend_the_budget(nc: NATS, identity: FakeIdentity) -> None:
    lookup = lookup_of(DirectoryView(), nc, per_second=5)
    real = [raw_key() for _ in range(40)]
    for number, raw in enumerate(real):
        identity.states[hashed(raw)] = key_state(raw, key_id=f"key_{number}")

    found = [await lookup.find(hashed(raw)) for raw in real]
    guesses = [await lookup.find(hashed(raw_key())) for _ in range(40)]

    assert found == [True] * 40  # eight times the budget, none refused
    assert lookup.counts["over_budget"] >= 34  # guesses still stop after the budget
    assert guesses == [False] * 40


async def test_a_late_lookup_never_undoes_a_revocation(nc: NATS, identity: FakeIdentity) -> None:
    raw = raw_key()
    created = key_state(raw)
    revoked = evolve(created, ApiKeyRevoked, revoked=True)
    view = DirectoryView()
    view.offer(revoked)  # the bucket delivered the revocation first
    identity.states[hashed(raw)] = created  # a lookup that answers with the older state

    view.offer(created)

    found = view.key(hashed(raw))
    assert found is not None
    assert found[0].revoked is True


async def test_identity_unreachable_is_a_refusal_not_an_error(nats_url: str) -> None:
    nc = await connect(nats_url, name="lookup-no-identity")
    try:
        lookup = lookup_of(DirectoryView(), nc, timeout=0.2)
        assert await lookup.find(hashed(raw_key())) is False
    finally:
        await nc.close()


async def test_a_looked_up_key_is_provisional_until_the_bucket_confirms_it(
    nc: NATS, identity: FakeIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = raw_key()
    identity.states[hashed(raw)] = key_state(raw)
    view = DirectoryView()
    lookup = lookup_of(view, nc)
    assert await lookup.find(hashed(raw))

    monkeypatch.setattr("skiff_gateway.directory.view.PROVISIONAL_SECONDS", 0.0)
    view.offer(evolve(key_state(raw), ApiKeyRevoked, revoked=False))  # a newer lookup answer
    assert view.key(hashed(raw)) is None  # expired unconfirmed: it must be looked up again

    view.apply(f"apikey.{key_state(raw).key_id}", msgspec.json.encode(key_state(raw)))
    assert view.key(hashed(raw)) is not None  # from the bucket: not provisional

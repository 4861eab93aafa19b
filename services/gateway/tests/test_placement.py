"""A session's file routes reach the runner holding it, as `sandbox-placement` says."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import httpx
import nats
import pytest
from directory_helpers import eventually
from gateway_helpers import AccessTokens, StartGateway, assert_error, serving
from placement_helpers import FakeRunner, PlacementBucket, bearer, pattern, placement_bucket
from skiff_gateway.app import create
from skiff_gateway.placement.paths import placed_session
from skiff_gateway.placement.runtime import Placements, SessionNotRunning
from skiff_gateway.settings import GatewaySettings
from skiff_kit.internal_token import INTERNAL_TOKEN_HEADER, InternalTokenVerifier


@pytest.fixture
async def bucket(nats_url: str) -> AsyncIterator[PlacementBucket]:
    async with placement_bucket(nats_url) as kv:
        yield kv


@pytest.fixture
async def runners() -> AsyncIterator[tuple[FakeRunner, str, FakeRunner, str]]:
    """Two runners on their own ports: (a, its url, b, its url)."""
    a, b = FakeRunner("a"), FakeRunner("b")
    async with serving(a) as a_url, serving(b) as b_url:
        yield a, a_url, b, b_url


def test_only_a_sessions_file_routes_are_placed() -> None:
    assert placed_session("/api/v1/sessions/ses_1/files") == "ses_1"
    assert placed_session("/api/v1/sessions/ses_1/files/content") == "ses_1"
    assert placed_session("/api/v1/sessions/ses_1/archive") == "ses_1"
    assert placed_session("/api/v1/sessions/ses%2A/files") == ""  # never a placement key
    for path in (
        "/api/v1/sessions/ses_1",
        "/api/v1/sessions/ses_1/tasks",
        "/api/v1/sessions/ses_1/files/other",
        "/api/v1/sessions//files",
        "/api/v1/tasks/ses_1/files",
    ):
        assert placed_session(path) is None


async def test_the_view_follows_puts_and_deletes(
    bucket: PlacementBucket, nats_url: str, runners: tuple[FakeRunner, str, FakeRunner, str]
) -> None:
    _, a_url, _, b_url = runners
    await bucket.place("ses_before", a_url)  # in the bucket before the gateway starts
    placements = Placements(nats_url=nats_url)
    async with placements.lifespan(None):
        view = placements.view
        await eventually(lambda: view.loaded and view.get("ses_before") is not None)

        await bucket.place("ses_new", b_url)
        await eventually(lambda: view.get("ses_new") is not None)
        placed = view.get("ses_new")
        assert placed is not None
        assert (placed.upstream.base_url, placed.organization_id) == (b_url, "org_ada")

        await bucket.place("ses_new", a_url)  # adopted elsewhere
        await eventually(lambda: view.sessions["ses_new"].upstream.base_url == a_url)

        await bucket.remove("ses_before")
        await eventually(lambda: view.get("ses_before") is None)
        assert view.get("ses_new") is not None


async def test_a_placement_not_yet_watched_is_looked_up_directly(
    bucket: PlacementBucket, nats_url: str, runners: tuple[FakeRunner, str, FakeRunner, str]
) -> None:
    _, a_url, _, _ = runners
    placements = Placements(nats_url=nats_url)
    placements.nats = await nats.connect(nats_url)  # connected, not watching
    try:
        await bucket.place("ses_fresh", a_url)
        _, upstream = await placements.route("ses_fresh", "org_ada")
        assert upstream.base_url == a_url
        assert placements.view.get("ses_fresh") is None  # it served this request only

        await bucket.remove("ses_fresh")
        with pytest.raises(SessionNotRunning):
            await placements.route("ses_fresh", "org_ada")
    finally:
        await placements.nats.drain()


async def test_each_sessions_requests_reach_its_own_runner(
    start_gateway: StartGateway,
    bucket: PlacementBucket,
    runners: tuple[FakeRunner, str, FakeRunner, str],
    access_tokens: AccessTokens,
    internal_verifier: InternalTokenVerifier,
) -> None:
    a, a_url, b, b_url = runners
    await bucket.place("ses_a", a_url)
    await bucket.place("ses_b", b_url)
    auth = bearer(access_tokens.mint(organization_id="org_ada"))

    async with start_gateway() as gateway:
        listed = await gateway.get(
            "/api/v1/sessions/ses_a/files?path=/&recursive=true", headers=auth
        )
        written = await gateway.put(
            "/api/v1/sessions/ses_b/files/content?path=/notes.txt",
            content=b"hello runner b",
            headers=auth,
        )
        archived = await gateway.get("/api/v1/sessions/ses_a/archive?path=/", headers=auth)
        removed = await gateway.delete("/api/v1/sessions/ses_b/files?path=/notes.txt", headers=auth)

    assert [r.status_code for r in (listed, written, archived, removed)] == [200] * 4
    assert [(s.method, s.path, s.query) for s in a.seen] == [
        ("GET", "/api/v1/sessions/ses_a/files", "path=/&recursive=true"),
        ("GET", "/api/v1/sessions/ses_a/archive", "path=/"),
    ]
    assert [(s.method, s.path, s.query) for s in b.seen] == [
        ("PUT", "/api/v1/sessions/ses_b/files/content", "path=/notes.txt"),
        ("DELETE", "/api/v1/sessions/ses_b/files", "path=/notes.txt"),
    ]
    assert b.seen[0].body_sha256 == hashlib.sha256(b"hello runner b").hexdigest()
    for seen in (*a.seen, *b.seen):
        principal = internal_verifier.verify(seen.headers[INTERNAL_TOKEN_HEADER])
        assert (principal.organization_id, principal.user_id) == ("org_ada", "usr_ada")
        assert "authorization" not in seen.headers
    assert listed.json() == {"runner": "a", "path": "/api/v1/sessions/ses_a/files"}


async def test_without_a_placement_the_session_is_not_found(
    start_gateway: StartGateway,
    bucket: PlacementBucket,
    runners: tuple[FakeRunner, str, FakeRunner, str],
    access_tokens: AccessTokens,
) -> None:
    a, a_url, _, _ = runners
    await bucket.place("ses_other_org", a_url, org="org_other")
    auth = bearer(access_tokens.mint(organization_id="org_ada"))

    async with start_gateway() as gateway:
        answers = [
            await gateway.get("/api/v1/sessions/ses_nowhere/files", headers=auth),
            await gateway.get("/api/v1/sessions/ses_other_org/archive", headers=auth),
            await gateway.get("/api/v1/sessions/ses%2A/files", headers=auth),
        ]
        unauthenticated = await gateway.get("/api/v1/sessions/ses_other_org/files")

    for answer in answers:
        body = assert_error(answer, 404, "session_not_found")
        assert "does not exist or is not running" in body["error"]
    assert_error(unauthenticated, 401, unauthenticated.json()["code"])
    assert a.seen == []


async def test_before_any_runner_made_the_bucket_sessions_are_not_found(
    start_gateway: StartGateway, access_tokens: AccessTokens
) -> None:
    auth = bearer(access_tokens.mint())
    async with start_gateway() as gateway:
        answer = await gateway.get("/api/v1/sessions/ses_1/files", headers=auth)

    assert_error(answer, 404, "session_not_found")


async def test_uploads_and_downloads_stream_through(
    gateway_settings: Callable[..., GatewaySettings],
    bucket: PlacementBucket,
    runners: tuple[FakeRunner, str, FakeRunner, str],
    access_tokens: AccessTokens,
) -> None:
    a, a_url, _, _ = runners
    await bucket.place("ses_big", a_url)
    auth = bearer(access_tokens.mint())
    upload = [pattern(n * 65536, 65536) for n in range(64)]  # 4 MiB, sent chunked

    async def chunks() -> AsyncIterator[bytes]:
        for chunk in upload:
            yield chunk

    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(serving(create(gateway_settings())))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=20))
        sent = await client.put(
            "/api/v1/sessions/ses_big/files/content?path=/big.bin", content=chunks(), headers=auth
        )
        received, size = hashlib.sha256(), 0
        async with client.stream(
            "GET", "/api/v1/sessions/ses_big/archive?download=3000000", headers=auth
        ) as download:
            assert download.status_code == 200
            async for chunk in download.aiter_raw():
                received.update(chunk)
                size += len(chunk)

    assert sent.status_code == 200
    [put, _] = a.seen
    assert put.body_length == 4 * 1024 * 1024
    assert put.body_sha256 == hashlib.sha256(b"".join(upload)).hexdigest()
    assert size == 3_000_000
    assert received.hexdigest() == hashlib.sha256(pattern(0, 3_000_000)).hexdigest()

"""`Idempotency-Key` on POST: one run per (caller, key), the first answer replayed after."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import parse_qs

import httpx
import msgspec
import nats
import pytest
from directory_helpers import Identity, key_state, raw_key
from gateway_helpers import AccessTokens, Gateway, StartGateway, assert_error, serving
from litestar.types import Receive, Scope, Send
from nats.js.errors import NoKeysError
from skiff_embedded import free_port
from skiff_gateway.app import create
from skiff_gateway.idempotency.store import Record
from skiff_gateway.settings import GatewaySettings

BUCKET = "skiff_gateway_idempotency"  # the setting's default
SESSIONS = "/api/v1/sessions"


class Tally:
    """A stand-in service that counts what it runs and says which run an answer came from.

    `?fail=N` answers `?fail_status=` (500) to the first N runs, `?delay=` waits first,
    `?pad=N` makes the answer N bytes longer.
    """

    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")  # type: ignore[operator]
            if not message.get("more_body", False):
                break
        self.runs += 1
        run = self.runs
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
        await asyncio.sleep(float(query.get("delay", 0)))
        status = 201
        if run <= int(query.get("fail", 0)):
            status = int(query.get("fail_status", 500))
        answer = {"run": run, "body": body.decode(), "pad": "x" * int(query.get("pad", 0))}
        headers = [
            (b"content-type", b"application/json"),
            (b"location", f"/api/v1/sessions/ses_{run}".encode()),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": msgspec.json.encode(answer)})


@pytest.fixture
def tally() -> Tally:
    return Tally()


@pytest.fixture
async def tally_url(tally: Tally) -> AsyncIterator[str]:
    async with serving(tally) as url:
        yield url


@pytest.fixture
def tally_upstreams(tally_url: str) -> str:
    """SKIFF_UPSTREAMS with the tally as every service the tests call."""
    return json.dumps({name: tally_url for name in ("identity", "orchestrator")})


@pytest.fixture
def start(start_gateway: StartGateway, tally_upstreams: str) -> StartGateway:
    """`start(**overrides)`: a gateway whose services are all the tally."""

    def run(**overrides: Any) -> AbstractAsyncContextManager[Gateway]:
        return start_gateway(**{"upstreams": tally_upstreams, **overrides})

    return run


@pytest.fixture
async def gateway(start: StartGateway) -> AsyncIterator[Gateway]:
    async with start() as client:
        yield client


@pytest.fixture
async def served(
    gateway_settings: Callable[..., GatewaySettings], tally_upstreams: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway served on a real port (the test client runs requests one at a
    time, so two of them could never overlap)."""
    async with (
        serving(create(gateway_settings(upstreams=tally_upstreams))) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield client


@pytest.fixture
def ada(access_tokens: AccessTokens) -> dict[str, str]:
    return {"authorization": f"Bearer {access_tokens.mint()}"}


def keyed(caller: dict[str, str], key: str = "key-1") -> dict[str, str]:
    return {**caller, "idempotency-key": key}


async def test_the_same_key_and_body_answer_the_first_answer_again(
    gateway: Gateway, tally: Tally, ada: dict[str, str]
) -> None:
    first = await gateway.post(SESSIONS, json={"image": "python"}, headers=keyed(ada))
    again = await gateway.post(SESSIONS, json={"image": "python"}, headers=keyed(ada))

    assert tally.runs == 1
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.json()["run"] == 1
    assert again.headers["location"] == first.headers["location"] == "/api/v1/sessions/ses_1"
    assert again.headers["content-type"] == "application/json"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    # A replay is a request of its own: its id, and it counts against the limits.
    assert again.headers.get_list("x-request-id") == [again.headers["x-request-id"]]
    assert again.headers["x-request-id"] != first.headers["x-request-id"]
    remaining = [int(r.headers["x-ratelimit-remaining"]) for r in (first, again)]
    assert remaining[1] == remaining[0] - 1
    assert len(again.headers.get_list("x-ratelimit-remaining")) == 1


@pytest.mark.parametrize(
    ("path", "body"),
    [(SESSIONS, {"image": "node"}), (f"{SESSIONS}?region=eu", {"image": "python"})],
)
async def test_the_same_key_with_another_request_is_422(
    gateway: Gateway, tally: Tally, ada: dict[str, str], path: str, body: dict[str, str]
) -> None:
    first = await gateway.post(SESSIONS, json={"image": "python"}, headers=keyed(ada))
    other = await gateway.post(path, json=body, headers=keyed(ada))

    assert first.status_code == 201
    assert_error(other, 422, "idempotency_key_reused")
    assert tally.runs == 1


async def test_two_requests_at_once_run_once(
    served: httpx.AsyncClient, tally: Tally, ada: dict[str, str]
) -> None:
    both = await asyncio.gather(
        *(served.post(f"{SESSIONS}?delay=0.5", json={}, headers=keyed(ada)) for _ in range(2))
    )
    later = await served.post(f"{SESSIONS}?delay=0.5", json={}, headers=keyed(ada))

    assert tally.runs == 1
    ran, refused = sorted(both, key=lambda answer: answer.status_code)
    assert ran.status_code == 201
    assert_error(refused, 409, "idempotency_key_in_use")
    assert refused.headers["retry-after"] == "1"
    assert later.status_code == 201
    assert later.headers["idempotent-replayed"] == "true"
    assert later.content == ran.content


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_an_answer_worth_retrying_is_not_kept(
    gateway: Gateway, tally: Tally, ada: dict[str, str], status: int
) -> None:
    target = f"{SESSIONS}?fail=1&fail_status={status}"
    failed = await gateway.post(target, json={}, headers=keyed(ada))
    retried = await gateway.post(target, json={}, headers=keyed(ada))
    replayed = await gateway.post(target, json={}, headers=keyed(ada))

    assert failed.status_code == status
    assert (retried.status_code, retried.json()["run"]) == (201, 2)
    assert "idempotent-replayed" not in retried.headers
    assert (replayed.json()["run"], replayed.headers["idempotent-replayed"]) == (2, "true")
    assert tally.runs == 2


@pytest.mark.parametrize("status", [400, 404, 409])
async def test_a_refusal_is_an_answer_and_is_kept(
    gateway: Gateway, tally: Tally, ada: dict[str, str], status: int
) -> None:
    target = f"{SESSIONS}?fail=1&fail_status={status}"
    first = await gateway.post(target, json={}, headers=keyed(ada))
    again = await gateway.post(target, json={}, headers=keyed(ada))

    assert (first.status_code, again.status_code) == (status, status)
    assert again.json()["run"] == 1
    assert again.headers["idempotent-replayed"] == "true"
    assert tally.runs == 1


async def test_a_kept_answer_is_unreadable_in_the_bucket(
    gateway: Gateway, ada: dict[str, str], nats_url: str
) -> None:
    # An answer may show a secret once (a new API key): the bucket must not hold it in clear.
    secret = "sk_live_shown_once_7f3a"
    first = await gateway.post(SESSIONS, json={"key": secret}, headers=keyed(ada))
    again = await gateway.post(SESSIONS, json={"key": secret}, headers=keyed(ada))

    assert secret in first.text
    assert again.content == first.content
    connection = await nats.connect(nats_url)
    try:
        kv = await connection.jetstream().key_value(BUCKET)
        [key] = await kv.keys()
        stored = (await kv.get(key)).value or b""
    finally:
        await connection.close()
    assert len(stored) > len(secret)
    assert secret.encode() not in stored
    assert b"/api/v1/sessions/ses_1" not in stored  # the headers are sealed too
    assert "key-1" not in key


async def test_a_service_that_is_down_leaves_the_key_free(
    start: StartGateway, tally: Tally, ada: dict[str, str], tally_url: str
) -> None:
    # Two replicas sharing the records: one cannot reach the service, the other can.
    down = json.dumps({"orchestrator": f"http://127.0.0.1:{free_port()}"})
    async with start(upstreams=down) as broken, start() as working:
        unreachable = await broken.post(SESSIONS, json={}, headers=keyed(ada))
        retried = await working.post(SESSIONS, json={}, headers=keyed(ada))
        replayed = await broken.post(SESSIONS, json={}, headers=keyed(ada))

    assert_error(unreachable, 503, "service_unavailable")
    assert retried.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"  # from the other replica's answer
    assert tally.runs == 1


async def test_other_callers_have_keys_of_their_own(
    gateway: Gateway, tally: Tally, access_tokens: AccessTokens
) -> None:
    callers = [
        access_tokens.mint(user_id="usr_ada", organization_id="org_ada"),
        access_tokens.mint(user_id="usr_bob", organization_id="org_ada"),
        access_tokens.mint(user_id="usr_ada", organization_id="org_other"),
    ]
    answers = [
        await gateway.post(SESSIONS, json={"n": n}, headers=keyed({"authorization": f"Bearer {t}"}))
        for n, t in enumerate(callers)
    ]

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert [answer.json()["run"] for answer in answers] == [1, 2, 3]
    assert not any("idempotent-replayed" in answer.headers for answer in answers)


async def test_each_api_key_has_keys_of_its_own(
    start: StartGateway, tally: Tally, access_tokens: AccessTokens, nats_url: str
) -> None:
    # Two keys of one organization, and the user who made them: three callers.
    raws = [raw_key(), raw_key()]
    await Identity(nats_url).publish(
        key_state(raws[0], key_id="key_1", organization_id="org_acme", created_by="usr_ada"),
        key_state(raws[1], key_id="key_2", organization_id="org_acme", created_by="usr_ada"),
    )
    user = access_tokens.mint(user_id="usr_ada", organization_id="org_acme")
    callers = [{"x-api-key": raw} for raw in raws] + [{"authorization": f"Bearer {user}"}]
    async with start() as gateway:
        deadline = time.monotonic() + 5
        while (await gateway.get(SESSIONS, headers=callers[1])).status_code != 201:
            assert time.monotonic() < deadline, "the keys never reached the gateway"
            await asyncio.sleep(0.02)
        runs_before = tally.runs
        first = [await gateway.post(SESSIONS, json={}, headers=keyed(c)) for c in callers]
        again = [await gateway.post(SESSIONS, json={}, headers=keyed(c)) for c in callers]

    assert [a.json()["run"] - runs_before for a in first] == [1, 2, 3]
    assert [a.json()["run"] for a in again] == [a.json()["run"] for a in first]
    assert all(a.headers["idempotent-replayed"] == "true" for a in again)


@pytest.mark.parametrize("key", [b"", b"k" * 256, b"has space", b"caf\xc3\xa9", b"tab\there"])
async def test_a_malformed_key_is_400(
    gateway: Gateway, tally: Tally, ada: dict[str, str], key: bytes
) -> None:
    headers = [*((k.encode(), v.encode()) for k, v in ada.items()), (b"idempotency-key", key)]

    response = await gateway.post(SESSIONS, json={}, headers=headers)

    assert_error(response, 400, "invalid_idempotency_key")
    assert tally.runs == 0


async def test_the_longest_key_is_accepted(
    gateway: Gateway, tally: Tally, ada: dict[str, str]
) -> None:
    response = await gateway.post(SESSIONS, json={}, headers=keyed(ada, "~" * 255))

    assert response.status_code == 201


async def test_without_the_header_every_request_runs(
    gateway: Gateway, tally: Tally, ada: dict[str, str]
) -> None:
    answers = [await gateway.post(SESSIONS, json={}, headers=ada) for _ in range(2)]

    assert [answer.json()["run"] for answer in answers] == [1, 2]
    assert not any("idempotent-replayed" in answer.headers for answer in answers)


async def test_an_anonymous_caller_has_no_scope_to_keep_a_key_in(
    gateway: Gateway, tally: Tally
) -> None:
    # Every anonymous caller would share the key: one could read another's login answer.
    answers = [
        await gateway.post("/api/v1/auth/login", json={}, headers={"idempotency-key": "k"})
        for _ in range(2)
    ]

    assert [answer.json()["run"] for answer in answers] == [1, 2]


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/register"])
async def test_anonymous_routes_ignore_the_key_even_for_a_signed_in_caller(
    gateway: Gateway, tally: Tally, ada: dict[str, str], path: str
) -> None:
    # A signed-in caller (token or skiff_session cookie) logging in again must never get an
    # access token from a cache, nor a 201 "registered" replayed instead of email_taken.
    answers = [await gateway.post(path, json={}, headers=keyed(ada, "k")) for _ in range(2)]

    assert [answer.json()["run"] for answer in answers] == [1, 2]
    assert not any("idempotent-replayed" in answer.headers for answer in answers)


async def test_a_body_larger_than_the_limit_is_413(
    start: StartGateway, tally: Tally, ada: dict[str, str]
) -> None:
    async with start(idempotency_max_body_bytes=1000) as gateway:
        large = await gateway.post(SESSIONS, content=b"x" * 1001, headers=keyed(ada))
        unkeyed = await gateway.post(SESSIONS, content=b"x" * 1001, headers=ada)

    body = assert_error(large, 413, "payload_too_large")
    assert "1000 bytes" in body["error"]
    assert unkeyed.status_code == 201
    assert tally.runs == 1


async def test_an_answer_too_large_to_keep_is_not_run_again(
    start: StartGateway, tally: Tally, ada: dict[str, str]
) -> None:
    async with start(idempotency_max_answer_bytes=1000) as gateway:
        first = await gateway.post(f"{SESSIONS}?pad=2000", json={}, headers=keyed(ada))
        again = await gateway.post(f"{SESSIONS}?pad=2000", json={}, headers=keyed(ada))

    assert first.status_code == 201
    assert len(first.json()["pad"]) == 2000
    assert_error(again, 409, "idempotency_key_used")
    assert tally.runs == 1


async def test_an_abandoned_claim_is_taken_over(
    served: httpx.AsyncClient, tally: Tally, ada: dict[str, str], nats_url: str
) -> None:
    # A replica that died mid-request leaves a claim that would block the key until it expires.
    target = f"{SESSIONS}?delay=1"
    first = asyncio.create_task(served.post(target, json={}, headers=keyed(ada)))
    await _age_the_claim(nats_url)
    taken_over = await served.post(target, json={}, headers=keyed(ada))
    late = await first
    replayed = await served.post(target, json={}, headers=keyed(ada))

    assert taken_over.status_code == 201
    assert taken_over.json()["run"] == 2
    assert tally.runs == 2
    assert late.json()["run"] == 1
    # The first replica's answer came after the takeover: the record stays the new owner's.
    assert replayed.json()["run"] == 2
    assert replayed.headers["idempotent-replayed"] == "true"


async def _age_the_claim(nats_url: str) -> None:
    """Rewrite the one in-progress claim as if it were an hour old."""
    connection = await nats.connect(nats_url)
    try:
        kv = await connection.jetstream().key_value(BUCKET)
        deadline = time.monotonic() + 5
        while True:
            try:
                [key] = await kv.keys()
                break
            except NoKeysError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.02)
        entry = await kv.get(key)
        claim = msgspec.msgpack.decode(entry.value or b"", type=Record)
        assert not claim.completed
        old = msgspec.structs.replace(claim, written_at=claim.written_at - 3600)
        await kv.update(key, msgspec.msgpack.encode(old), last=entry.revision)
    finally:
        await connection.close()


async def test_without_the_shared_records_a_keyed_request_is_503(
    start: StartGateway, tally: Tally, ada: dict[str, str]
) -> None:
    nowhere = f"nats://127.0.0.1:{free_port()}"
    async with start(
        nats_url=nowhere, ratelimit_start_wait_seconds=0.2, directory_start_timeout_seconds=0.2
    ) as gateway:
        keyed_answer = await gateway.post(SESSIONS, json={}, headers=keyed(ada))
        unkeyed = await gateway.post(SESSIONS, json={}, headers=ada)

    assert_error(keyed_answer, 503, "service_unavailable")
    assert unkeyed.status_code == 201
    assert tally.runs == 1


async def test_a_keyed_request_through_a_real_server(gateway_url: str, ada: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as client:
        first = await client.post("/api/v1/apps/app_1", content=b"{}", headers=keyed(ada))
        again = await client.post("/api/v1/apps/app_1", content=b"{}", headers=keyed(ada))

    assert first.status_code == 200
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"

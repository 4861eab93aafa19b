"""The gateway's HTTP edge on real sockets: header limits (431/414), slow clients (408, closed
idle connections) and malformed HTTP (400), all in the API error shape."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable

import pytest
from edge_helpers import RawClient, request
from gateway_helpers import AccessTokens, WebSocketEcho, serving
from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings
from skiff_kit.settings import ServiceSettings
from websockets.asyncio.client import connect

SHORT = {
    "http_header_timeout_seconds": 1.0,
    "http_body_timeout_seconds": 1.0,
    "http_idle_timeout_seconds": 1.0,
}
PATH = "/api/v1/sessions/x"


@pytest.fixture
async def edge_url(gateway_settings: Callable[..., GatewaySettings]) -> AsyncIterator[str]:
    """The gateway served as in production (the kit's runner config), with 1 s timeouts."""
    settings = gateway_settings(**SHORT)
    async with serving(create(settings), settings=settings) as url:
        yield url


@pytest.fixture
def bearer(access_tokens: AccessTokens) -> tuple[str, str]:
    return ("authorization", f"Bearer {access_tokens.mint()}")


@contextlib.asynccontextmanager
async def connected(url: str) -> AsyncIterator[RawClient]:
    client = await RawClient.connect(url)
    try:
        yield client
    finally:
        client.close()


async def still_serves(url: str, bearer: tuple[str, str]) -> None:
    async with connected(url) as client:
        await client.send(request("GET", PATH, [bearer]))
        answer = await client.answer()
        assert answer is not None
        assert answer.status == 200, answer.body


async def test_a_32_mib_header_is_431_and_the_client_reads_it_while_still_sending(
    edge_url: str, bearer: tuple[str, str]
) -> None:
    async with connected(edge_url) as client:
        head = request("GET", PATH, [bearer]).removesuffix(b"\r\n")
        sending = asyncio.create_task(client.send(head + b"x-big: " + b"a" * (32 << 20)))
        answer = await client.answer()
        assert answer is not None
        body = answer.error(431, "request_header_fields_too_large")
        assert body["details"] == {"limit": "head_bytes", "max": 32 * 1024}
        assert answer.headers["connection"] == "close"
        await client.closed_within(15)
        with contextlib.suppress(ConnectionError):
            await sending
    await still_serves(edge_url, bearer)


async def test_twenty_thousand_headers_are_431(edge_url: str, bearer: tuple[str, str]) -> None:
    async with connected(edge_url) as client:
        headers = [bearer, *((f"x-h{n}", "v") for n in range(20_000))]
        sending = asyncio.create_task(client.send(request("GET", PATH, headers)))
        answer = await client.answer()
        assert answer is not None
        answer.error(431, "request_header_fields_too_large")
        with contextlib.suppress(ConnectionError):
            await sending


async def test_the_header_count_limit_is_exact(edge_url: str, bearer: tuple[str, str]) -> None:
    # host + authorization + 98 = 100 headers: the limit, served.
    async with connected(edge_url) as client:
        await client.send(request("GET", PATH, [bearer, *((f"x-h{n}", "v") for n in range(98))]))
        answer = await client.answer()
        assert answer is not None
        assert answer.status == 200
    async with connected(edge_url) as client:
        await client.send(request("GET", PATH, [bearer, *((f"x-h{n}", "v") for n in range(99))]))
        answer = await client.answer()
        assert answer is not None
        body = answer.error(431, "request_header_fields_too_large")
        assert body["details"] == {"limit": "header_count", "max": 100}


async def test_one_header_over_8_kib_is_431_naming_it(edge_url: str) -> None:
    async with connected(edge_url) as client:
        await client.send(request("GET", PATH, [("x-cookie-jar", "c" * 8200)]))
        answer = await client.answer()
        assert answer is not None
        body = answer.error(431, "request_header_fields_too_large")
        assert body["details"] == {"limit": "header_bytes", "max": 8192, "header": "x-cookie-jar"}


async def test_a_request_target_over_8_kib_is_414(edge_url: str) -> None:
    async with connected(edge_url) as client:
        await client.send(request("GET", PATH + "?q=" + "a" * 8200, []))
        answer = await client.answer()
        assert answer is not None
        answer.error(414, "uri_too_long")


async def test_headers_trickled_past_the_header_timeout_are_408(edge_url: str) -> None:
    async with connected(edge_url) as client:
        started = time.monotonic()
        trickle = asyncio.create_task(
            client.trickle(request("GET", PATH, [("x-slow", "s" * 100)]), every=0.05)
        )
        answer = await client.answer(seconds=10)
        elapsed = time.monotonic() - started
        trickle.cancel()
        assert answer is not None
        body = answer.error(408, "request_timeout")
        assert body["details"] == {"waiting_for": "headers", "timeout_seconds": 1.0}
        assert 0.9 <= elapsed < 4, elapsed
        await client.closed_within(5)


async def test_a_fresh_connection_that_sends_nothing_is_closed_without_an_answer(
    edge_url: str,
) -> None:
    async with connected(edge_url) as client:
        assert 0.9 <= await client.closed_within(5) < 4


async def test_an_idle_kept_alive_connection_is_closed(
    edge_url: str, bearer: tuple[str, str]
) -> None:
    async with connected(edge_url) as client:
        await client.send(request("GET", PATH, [bearer]))
        first = await client.answer()
        assert first is not None
        assert first.status == 200
        await asyncio.sleep(0.5)  # within the idle timeout: the connection serves again
        await client.send(request("GET", PATH, [bearer]))
        second = await client.answer()
        assert second is not None
        assert second.status == 200
        assert 0.9 <= await client.closed_within(5) < 4


async def test_a_body_that_stops_coming_is_408(edge_url: str, bearer: tuple[str, str]) -> None:
    async with connected(edge_url) as client:
        headers = [bearer, ("content-type", "application/json"), ("content-length", "100")]
        started = time.monotonic()
        await client.send(request("POST", PATH, headers, b'{"a": "'))
        answer = await client.answer(seconds=10)
        elapsed = time.monotonic() - started
        assert answer is not None
        body = answer.error(408, "request_timeout")
        assert body["details"] == {"waiting_for": "body", "timeout_seconds": 1.0}
        assert 0.9 <= elapsed < 4, elapsed
    await still_serves(edge_url, bearer)


async def test_after_an_early_answer_the_body_is_dropped_and_the_connection_serves_again(
    edge_url: str, bearer: tuple[str, str]
) -> None:
    # No credentials: the gateway answers 401 at once, before the announced body is sent.
    async with connected(edge_url) as client:
        await client.send(request("POST", PATH, [("content-length", "10")], b"{"))
        answer = await client.answer()
        assert answer is not None
        answer.error(401, "authentication_required")
        await client.send(b'"a": 123}')  # the rest of the 10 bytes: read and dropped
        await client.send(request("GET", PATH, [bearer]))
        again = await client.answer()
        assert again is not None
        assert again.status == 200, again.body
        assert 0.9 <= await client.closed_within(5) < 4  # then idle, and closed


async def test_a_body_never_sent_after_an_early_answer_is_cut_by_the_body_timeout(
    edge_url: str,
) -> None:
    async with connected(edge_url) as client:
        await client.send(request("POST", PATH, [("content-length", "100000")], b"{"))
        answer = await client.answer()
        assert answer is not None
        answer.error(401, "authentication_required")
        assert 0.5 <= await client.closed_within(5) < 4


@pytest.mark.parametrize(
    "raw",
    [
        b"G\x01T / HTTP/1.1\r\nhost: a\r\n\r\n",  # not a method
        b"GET /api/v1/sessions HTTP/1.1\r\nno colon here\r\n\r\n",  # not a header
        b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",  # not a chunk size
    ],
)
async def test_malformed_http_is_400_in_the_error_shape(edge_url: str, raw: bytes) -> None:
    async with connected(edge_url) as client:
        await client.send(raw)
        answer = await client.answer()
        assert answer is not None
        body = answer.error(400, "malformed_request")
        assert body["details"]["reason"]


async def test_a_websocket_outlives_every_http_timeout(
    gateway_settings: Callable[..., GatewaySettings], bearer: tuple[str, str]
) -> None:
    service_settings = ServiceSettings(**SHORT)
    async with serving(WebSocketEcho(), settings=service_settings) as service:
        settings = gateway_settings(upstreams=json.dumps({"orchestrator": service}), **SHORT)
        async with serving(create(settings), settings=settings) as gateway:
            url = gateway.replace("http", "ws") + "/api/v1/sessions/ses_1/ws"
            async with connect(url, additional_headers=[bearer]) as ws:
                await ws.recv()  # what the service saw
                await asyncio.sleep(2.5)  # quiet for longer than every timeout above
                await ws.send("still here")
                assert await ws.recv() == "still here"

"""Forwarding: headers, query strings, statuses and bodies both ways, and upstream failures."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_helpers import (
    AccessTokens,
    Echo,
    Gateway,
    StartGateway,
    assert_error,
    forwarded_headers,
)

TRACEPARENT = re.compile(r"00-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}")
CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"


@pytest.fixture
def bearer(access_tokens: AccessTokens) -> dict[str, str]:
    return {"authorization": f"Bearer {access_tokens.mint()}"}


async def test_the_request_id_is_made_forwarded_and_answered(
    gateway: Gateway, bearer: dict[str, str]
) -> None:
    response = await gateway.get("/api/v1/sessions", headers=bearer)

    request_id = response.headers["x-request-id"]
    assert request_id.startswith("req_")
    assert forwarded_headers(response.json())["x-request-id"] == [request_id]


@pytest.mark.parametrize(
    ("sent", "kept"), [("req-client-1", True), ("has spaces; and junk", False), ("x" * 200, False)]
)
async def test_a_clients_request_id_is_kept_only_if_sane(
    gateway: Gateway, bearer: dict[str, str], sent: str, kept: bool
) -> None:
    response = await gateway.get("/api/v1/sessions", headers={**bearer, "x-request-id": sent})

    request_id = response.headers["x-request-id"]
    assert (request_id == sent) is kept
    # The service sees the gateway's id only, so both log lines carry the same one.
    assert forwarded_headers(response.json())["x-request-id"] == [request_id]


async def test_the_trace_goes_on_from_the_gateways_span(
    gateway: Gateway, bearer: dict[str, str]
) -> None:
    fresh = await gateway.get("/api/v1/sessions", headers=bearer)
    client_parent = f"00-{CLIENT_TRACE}-b7ad6b7169203331-01"
    continued = await gateway.get(
        "/api/v1/sessions", headers={**bearer, "traceparent": client_parent}
    )

    [started] = forwarded_headers(fresh.json())["traceparent"]
    assert TRACEPARENT.fullmatch(started)
    [forwarded] = forwarded_headers(continued.json())["traceparent"]
    match = TRACEPARENT.fullmatch(forwarded)
    assert match is not None
    assert match["trace"] == CLIENT_TRACE
    assert match["span"] != "b7ad6b7169203331"  # the gateway's own span is the parent


async def test_the_client_address_is_the_one_the_gateway_saw(
    gateway: Gateway, bearer: dict[str, str]
) -> None:
    spoofed = {**bearer, "x-forwarded-for": "6.6.6.6", "forwarded": "for=6.6.6.6"}

    response = await gateway.get("/api/v1/sessions", headers=spoofed)

    headers = forwarded_headers(response.json())
    assert headers["x-forwarded-for"] == ["testclient"]  # the test client's address
    assert headers["x-forwarded-proto"] == ["http"]
    assert "forwarded" not in headers


async def test_other_request_headers_pass_through(gateway: Gateway, bearer: dict[str, str]) -> None:
    response = await gateway.get(
        "/api/v1/sessions", headers={**bearer, "x-custom-trace": "abc", "accept-language": "fr"}
    )

    headers = forwarded_headers(response.json())
    assert headers["x-custom-trace"] == ["abc"]
    assert headers["accept-language"] == ["fr"]


@pytest.mark.parametrize(
    "query", ["limit=5&cursor=abc", "tag=a&tag=b", "q=hello%20world&plus=a+b&empty=", "x=%E2%9C%93"]
)
async def test_query_strings_pass_through_unchanged(
    gateway: Gateway, bearer: dict[str, str], query: str
) -> None:
    response = await gateway.get(f"/api/v1/tasks/tsk_1?{query}", headers=bearer)

    assert (response.json()["path"], response.json()["query"]) == ("/api/v1/tasks/tsk_1", query)


async def test_an_encoded_path_is_forwarded_as_sent(
    gateway: Gateway, bearer: dict[str, str]
) -> None:
    response = await gateway.get("/api/v1/apps/my%20app/packages", headers=bearer)

    assert response.json()["raw_path"] == "/api/v1/apps/my%20app/packages"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
async def test_methods_and_bodies_pass_through(
    gateway: Gateway, bearer: dict[str, str], method: str
) -> None:
    content = json.dumps({"name": "agent", "n": 1}).encode()

    response = await gateway.request(
        method,
        "/api/v1/apps/app_1",
        content=content,
        headers={**bearer, "content-type": "application/json"},
    )

    echoed = response.json()
    assert echoed["method"] == method
    assert echoed["body_sha256"] == hashlib.sha256(content).hexdigest()
    assert forwarded_headers(echoed)["content-type"] == ["application/json"]


@pytest.mark.parametrize("status", [201, 204, 400, 404, 409, 500])
async def test_the_services_status_passes_through(
    gateway: Gateway, bearer: dict[str, str], status: int
) -> None:
    response = await gateway.get(f"/api/v1/sessions?status={status}", headers=bearer)

    assert response.status_code == status
    assert response.headers["x-upstream"] == "echo"


async def test_response_headers_pass_through_every_cookie_too(
    gateway: Gateway, bearer: dict[str, str]
) -> None:
    response = await gateway.post("/api/v1/auth/login?cookies=2", json={})

    assert response.headers.get_list("set-cookie") == [
        "c0=v0; Path=/; HttpOnly",
        "c1=v1; Path=/; HttpOnly",
    ]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-upstream"] == "echo"


async def test_a_large_request_body_arrives_intact(
    gateway_url: str, bearer: dict[str, str]
) -> None:
    payload = os.urandom(5 * 1024 * 1024)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 256 * 1024):
            yield payload[start : start + 256 * 1024]

    async with httpx.AsyncClient(base_url=gateway_url, timeout=30) as client:
        response = await client.put(
            "/api/v1/apps/app_1/packages?name=big.bin", content=chunks(), headers=bearer
        )

    assert response.status_code == 200, response.text
    assert response.json()["body_length"] == len(payload)
    assert response.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()


async def test_a_streamed_answer_arrives_as_it_is_produced(
    gateway_url: str, bearer: dict[str, str], echo: Echo
) -> None:
    echo.release.clear()
    async with (
        httpx.AsyncClient(base_url=gateway_url, timeout=10) as client,
        client.stream(
            "GET", "/api/v1/tasks/tsk_1/stream?chunks=3&hold=1", headers=bearer
        ) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"] == "text/event-stream"
        parts = stream.aiter_raw()
        # The upstream holds the rest until this first event is here: a buffering proxy hangs.
        first = await asyncio.wait_for(anext(parts), timeout=5)
        echo.release.set()
        rest = b"".join([part async for part in parts])

    assert first == b"data: chunk 0\n\n"
    assert rest == b"data: chunk 1\n\ndata: chunk 2\n\n"


async def test_a_service_that_dies_mid_answer_never_looks_complete(
    gateway_url: str, bearer: dict[str, str]
) -> None:
    # Too late for an error status: the client must see a broken body, not a short one.
    async with httpx.AsyncClient(base_url=gateway_url, timeout=10) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/api/v1/tasks/tsk_1/stream?chunks=3&crash=1", headers=bearer)


async def test_a_service_that_is_down_is_503(
    start_gateway: StartGateway, absent_url: str, bearer: dict[str, str]
) -> None:
    async with start_gateway(upstreams=json.dumps({"billing": absent_url})) as gateway:
        response = await gateway.get("/api/v1/credits/balance", headers=bearer)

    body = assert_error(response, 503, "service_unavailable")
    assert body["details"] == {"service": "billing"}
    assert absent_url not in response.text


async def test_a_service_slower_than_the_timeout_is_504(
    start_gateway: StartGateway, echo_url: str, bearer: dict[str, str]
) -> None:
    upstreams = json.dumps({"orchestrator": echo_url})
    async with start_gateway(upstreams=upstreams, upstream_timeout_seconds=0.5) as gateway:
        slow = await gateway.get("/api/v1/sessions?delay=2", headers=bearer)
        quick = await gateway.get("/api/v1/sessions", headers=bearer)

    body = assert_error(slow, 504, "gateway_timeout")
    assert body["details"] == {"service": "orchestrator"}
    assert quick.status_code == 200

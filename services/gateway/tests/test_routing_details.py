"""Body-size limits and CORS at the door."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from gateway_helpers import AccessTokens, StartGateway, assert_error, serving
from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings

APP = "https://app.example.com"


@pytest.fixture
def bearer(access_tokens: AccessTokens) -> dict[str, str]:
    return {"authorization": f"Bearer {access_tokens.mint()}"}


async def test_a_body_over_the_limit_is_413_before_it_is_sent(
    start_gateway: StartGateway, bearer: dict[str, str]
) -> None:
    async with start_gateway(max_body_bytes=1024) as gateway:
        small = await gateway.put(
            "/api/v1/apps/app_1/packages", content=b"x" * 1024, headers=bearer
        )
        large = await gateway.put(
            "/api/v1/apps/app_1/packages", content=b"x" * 1025, headers=bearer
        )

    assert small.json()["body_length"] == 1024
    body = assert_error(large, 413, "payload_too_large")
    assert body["details"] == {"max_bytes": 1024}
    assert "x-upstream" not in large.headers
    assert large.headers["x-ratelimit-limit"] == "1000"


async def test_a_streamed_body_is_cut_off_at_the_limit(
    gateway_settings: Callable[..., GatewaySettings], bearer: dict[str, str]
) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked on the wire
        for _ in range(8):
            yield b"y" * 512

    async with (
        serving(create(gateway_settings(max_body_bytes=3000))) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        response = await client.put("/api/v1/tasks/t/input", content=chunks(), headers=bearer)
        fits = await client.put("/api/v1/tasks/t/input", content=b"z" * 3000, headers=bearer)

    assert_error(response, 413, "payload_too_large")
    assert fits.json()["body_length"] == 3000


async def test_a_preflight_is_answered_by_the_gateway(start_gateway: StartGateway) -> None:
    ask = {
        "origin": APP,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-api-key",
    }
    async with start_gateway(cors_allowed_origins=f"{APP}, https://other.example") as gateway:
        allowed = await gateway.options("/api/v1/sessions", headers=ask)
        foreign = await gateway.options(
            "/api/v1/sessions", headers={**ask, "origin": "https://evil.example"}
        )

    assert allowed.status_code == 204
    assert "x-upstream" not in allowed.headers  # never forwarded
    assert allowed.headers["access-control-allow-origin"] == APP
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert allowed.headers["access-control-allow-headers"] == "content-type, x-api-key"
    assert allowed.headers["access-control-max-age"] == "600"
    assert foreign.status_code == 204
    assert "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-credentials" not in foreign.headers


async def test_listed_origins_may_read_answers_and_their_headers(
    start_gateway: StartGateway, bearer: dict[str, str]
) -> None:
    async with start_gateway(cors_allowed_origins=APP) as gateway:
        listed = await gateway.get("/api/v1/sessions", headers={**bearer, "origin": APP})
        other = await gateway.get(
            "/api/v1/sessions", headers={**bearer, "origin": "https://evil.example"}
        )
        refused = await gateway.get("/api/v1/sessions", headers={"origin": APP})

    assert listed.headers["access-control-allow-origin"] == APP
    assert listed.headers["access-control-allow-credentials"] == "true"
    exposed = listed.headers["access-control-expose-headers"]
    assert "x-ratelimit-remaining" in exposed
    assert "x-request-id" in exposed
    assert "origin" in listed.headers["vary"].lower()
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    assert refused.status_code == 401  # errors are readable by the app too
    assert refused.headers["access-control-allow-origin"] == APP


async def test_without_listed_origins_there_are_no_cors_headers(
    start_gateway: StartGateway, bearer: dict[str, str]
) -> None:
    async with start_gateway() as gateway:
        answer = await gateway.get("/api/v1/sessions", headers={**bearer, "origin": APP})

    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


async def test_any_origin_never_gets_credentials(
    start_gateway: StartGateway, bearer: dict[str, str]
) -> None:
    async with start_gateway(cors_allowed_origins="*") as gateway:
        answer = await gateway.get("/api/v1/sessions", headers={**bearer, "origin": APP})

    assert answer.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in answer.headers

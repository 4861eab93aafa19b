"""A slow but live body outlasting the internal token: the service still accepts it, because
the token is checked against the moment the request arrived, not when the body is in."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import msgspec
from edge_helpers import RawClient, request
from gateway_helpers import AccessTokens, serving
from litestar import post
from litestar.params import JSONBody
from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings
from skiff_kit.app import create_app
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.settings import ServiceSettings

TOKEN_TTL = 1  # seconds; the verifier allows 5 s of clock skew on top
BODY_SECONDS = 8.0  # longer than both together


class Note(msgspec.Struct):
    text: str


class Taken(msgspec.Struct):
    organization_id: str
    text: str


@post("/api/v1/sessions/notes", status_code=201, sync_to_thread=False)
def take_note(data: JSONBody[Note], principal: CurrentPrincipal) -> Taken:
    """A signed-in route with a JSON body, as every service has them."""
    return Taken(organization_id=principal.organization_id, text=data.text)


async def test_a_slow_live_json_body_longer_than_the_token_lifetime_is_accepted(
    gateway_settings: Callable[..., GatewaySettings],
    access_tokens: AccessTokens,
    internal_keys: tuple[str, str],
) -> None:
    service_settings = ServiceSettings(
        service_name="orchestrator",
        internal_public_keys=json.dumps({"gw1": internal_keys[1]}),
        log_format="console",
        log_level="warning",
        http_body_timeout_seconds=2.0,
    )
    service = create_app(service_settings, route_handlers=[take_note])
    async with serving(service, settings=service_settings) as service_url:
        settings = gateway_settings(
            upstreams=json.dumps({"orchestrator": service_url}),
            internal_token_ttl_seconds=TOKEN_TTL,
            http_body_timeout_seconds=2.0,  # each pause below is shorter: the body is live
        )
        async with serving(create(settings), settings=settings) as gateway_url:
            body = msgspec.json.encode(Note(text="n" * 16))
            headers = [
                ("authorization", f"Bearer {access_tokens.mint()}"),
                ("content-type", "application/json"),
                ("content-length", str(len(body))),
            ]
            client = await RawClient.connect(gateway_url)
            try:
                await client.send(request("POST", "/api/v1/sessions/notes", headers))
                started = time.monotonic()
                await client.trickle(body, every=BODY_SECONDS / 8, size=len(body) // 8 + 1)
                answer = await client.answer()
                took = time.monotonic() - started
            finally:
                client.close()
    assert answer is not None
    assert answer.status == 201, answer.body
    assert msgspec.json.decode(answer.body) == {"organization_id": "org_ada", "text": "n" * 16}
    assert took > TOKEN_TTL + 5

"""The merged OpenAPI document of every service, and the interactive docs page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fake_services import FakeService, document, operation
from gateway_helpers import StartGateway, serving
from skiff_embedded import free_port

IDENTITY = document(
    {
        "/api/v1/auth/login": {"post": operation("log in", ref="ErrorBody")},
        "/api/v1/auth/me": {"get": operation("me", ref="User")},
        "/health": {"get": operation("health")},
    },
    {
        "ErrorBody": {"type": "object", "properties": {"error": {"type": "string"}}},
        "User": {"type": "object", "properties": {"id": {"type": "string"}}},
        "Shared": {"type": "object", "properties": {"a": {"type": "string"}}},
    },
)
BILLING = document(
    {
        "/api/v1/credits/balance": {"get": operation("balance", ref="Balance")},
        "/webhooks/stripe": {"post": operation("stripe", ref="ErrorBody")},
        "/api/v1/auth/sneaky": {"get": operation("sneaky")},  # identity's prefix: not billing's
    },
    {
        "ErrorBody": {"type": "object", "properties": {"code": {"type": "string"}}},
        "Balance": {
            "type": "object",
            "properties": {"last_error": {"$ref": "#/components/schemas/ErrorBody"}},
        },
        "Shared": {"type": "object", "properties": {"a": {"type": "string"}}},
    },
)
NOTIFICATION = document({"/api/v1/notifications": {"get": operation("notifications")}}, {})


@pytest.fixture
async def services() -> AsyncIterator[dict[str, str]]:
    async with (
        serving(FakeService(IDENTITY)) as identity,
        serving(FakeService(BILLING)) as billing,
    ):
        yield {"identity": identity, "billing": billing}


def ref_of(doc: dict[str, Any], path: str, method: str) -> str:
    content = doc["paths"][path][method]["responses"]["200"]["content"]
    return str(content["application/json"]["schema"]["$ref"])


async def test_one_document_holds_every_services_public_paths(
    start_gateway: StartGateway, services: dict[str, str]
) -> None:
    notification = f"http://127.0.0.1:{free_port()}"  # down
    upstreams = json.dumps({**services, "notification": notification})
    async with start_gateway(upstreams=upstreams) as gateway:
        answer = await gateway.get("/api/v1/openapi.json")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    doc = answer.json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/api/v1/auth/login",
        "/api/v1/auth/me",
        "/api/v1/credits/balance",
        "/webhooks/stripe",
        "/api/v1/health/deep",
    }
    assert doc["info"]["x-missing-services"] == ["notification"]
    assert doc["paths"]["/api/v1/auth/login"]["post"]["tags"][0] == "identity"
    assert doc["paths"]["/api/v1/credits/balance"]["get"]["tags"][0] == "billing"


async def test_components_never_collide(
    start_gateway: StartGateway, services: dict[str, str]
) -> None:
    async with start_gateway(upstreams=json.dumps(services)) as gateway:
        doc = (await gateway.get("/api/v1/openapi.json")).json()

    schemas = doc["components"]["schemas"]
    assert "ErrorBody" not in schemas
    assert schemas["IdentityErrorBody"]["properties"] == {"error": {"type": "string"}}
    assert schemas["BillingErrorBody"]["properties"] == {"code": {"type": "string"}}
    assert "Shared" in schemas  # identical in both: kept once, unprefixed
    assert "IdentityShared" not in schemas
    assert ref_of(doc, "/api/v1/auth/login", "post") == "#/components/schemas/IdentityErrorBody"
    assert ref_of(doc, "/webhooks/stripe", "post") == "#/components/schemas/BillingErrorBody"
    nested = schemas["Balance"]["properties"]["last_error"]["$ref"]
    assert nested == "#/components/schemas/BillingErrorBody"


async def test_the_document_says_how_to_authenticate(
    start_gateway: StartGateway, services: dict[str, str]
) -> None:
    async with start_gateway(upstreams=json.dumps(services)) as gateway:
        doc = (await gateway.get("/api/v1/openapi.json")).json()

    schemes = doc["components"]["securitySchemes"]
    assert schemes["api_key"] == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["session_cookie"] == {"type": "apiKey", "in": "cookie", "name": "skiff_session"}
    assert {"api_key": []} in doc["security"]
    assert doc["paths"]["/api/v1/auth/login"]["post"]["security"] == []  # open route
    assert "security" not in doc["paths"]["/api/v1/auth/me"]["get"]


async def test_a_service_that_was_down_appears_once_it_is_up(
    start_gateway: StartGateway, services: dict[str, str]
) -> None:
    port = free_port()
    upstreams = json.dumps({**services, "notification": f"http://127.0.0.1:{port}"})
    async with start_gateway(upstreams=upstreams, openapi_retry_seconds=0) as gateway:
        before = (await gateway.get("/api/v1/openapi.json")).json()
        async with serving(FakeService(NOTIFICATION), port=port):
            after = (await gateway.get("/api/v1/openapi.json")).json()

    assert "/api/v1/notifications" not in before["paths"]
    assert "/api/v1/notifications" in after["paths"]
    assert "x-missing-services" not in after["info"]


async def test_the_docs_page_reads_the_merged_document(start_gateway: StartGateway) -> None:
    script = "https://cdn.example/api-reference.js"
    async with start_gateway(docs_script_url=script) as gateway:
        page = await gateway.get("/api/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-url="/api/v1/openapi.json"' in page.text
    assert f'src="{script}"' in page.text

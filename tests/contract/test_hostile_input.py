"""Hostile input on every JSON route, through the gateway: never a server error (issue 9).

The routes come from the merged OpenAPI document (tests/matrix/document.py), so a route added
later is probed without editing this file. Each gets JSON nested far too deep, invalid UTF-8
inside a string, a body over the JSON limit, and, one field at a time, a string far larger
than any field allows; the gateway gets headers too large and too many. Every answer must be
a 4xx (or a success) in the API's error shape: never a 5xx, never plain text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from skiff_cli.supervisor import Stack

from tests.matrix.document import collected_document
from tests.matrix.examples import body, resolve
from tests.matrix.operations import Operation, operations
from tests.users import bearer, register

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DOCUMENT = collected_document()
JSON_OPERATIONS = [op for op in operations(DOCUMENT) if op.body_schema() is not None]
HUGE = "\x01" * (2 * 1024 * 1024)  # 12 MiB once JSON-escaped on any bus
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as anonymous:
        person = await register(anonymous, "Hostile")
        headers = await bearer(anonymous, person["user"]["email"])
    async with httpx.AsyncClient(
        base_url=stack.gateway_url, timeout=60, headers=headers
    ) as signed_in:
        yield signed_in


def _url(operation: Operation) -> str:
    return operation.url({name: f"x_{name}" for name in operation.path_parameters})


def _assert_refused_cleanly(answer: httpx.Response, what: str) -> None:
    assert answer.status_code < 500, f"{what}: {answer.status_code} {answer.text[:300]}"
    if answer.status_code >= 400:
        error = answer.json()
        assert set(error) == {"error", "code", "details", "request_id"}, f"{what}: {error}"


def _fields(operation: Operation) -> list[str]:
    schema = resolve(DOCUMENT, operation.body_schema() or {})
    for key in ("anyOf", "oneOf"):
        for choice in schema.get(key, []):
            if resolve(DOCUMENT, choice).get("type") == "object":
                schema = resolve(DOCUMENT, choice)
    return sorted(schema.get("properties", {}))


@pytest.mark.parametrize("operation", JSON_OPERATIONS, ids=lambda op: op.id)
async def test_hostile_bodies_never_cause_a_server_error(
    client: httpx.AsyncClient, operation: Operation
) -> None:
    url, method = _url(operation), operation.method
    probes: dict[str, bytes] = {
        "deep": b'{"a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
        "deep inside a field": b'{"metadata": {"k": ' + b"[" * 10_000 + b"]" * 10_000 + b"}}",
        "invalid utf-8": b'{"name": "\xff\xfe\xfd", "command": "\xc3\x28"}',
        "too big": b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}',
    }
    for name, content in probes.items():
        answer = await client.request(method, url, content=content, headers=JSON)
        _assert_refused_cleanly(answer, f"{operation.id} {name}")
        assert answer.status_code >= 400, f"{operation.id} {name}: accepted"

    base = body(DOCUMENT, operation)
    for field in _fields(operation):
        fuzzed = {**(base if isinstance(base, dict) else {}), field: HUGE}
        answer = await client.request(method, url, json=fuzzed)
        _assert_refused_cleanly(answer, f"{operation.id} huge {field}")


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("one 64 KiB header", {"x-big": "b" * 65536}),
        ("two thousand headers", {f"x-h{i}": "v" for i in range(2000)}),
    ],
)
async def test_oversized_headers_are_refused_in_the_error_shape(
    client: httpx.AsyncClient, name: str, headers: dict[str, Any]
) -> None:
    answer = await client.get("/api/v1/auth/me", headers=headers)

    assert answer.status_code == 431, f"{name}: {answer.status_code}"
    _assert_refused_cleanly(answer, name)

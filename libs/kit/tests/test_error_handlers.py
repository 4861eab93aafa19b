"""Every kind of failure answers `{error, code, details, request_id}` and never a traceback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import msgspec
import pytest
from litestar import get, post
from litestar.exceptions import HTTPException
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.testing import AsyncTestClient
from skiff_kit.app import create_app
from skiff_kit.errors import Conflict, NotFound, PaymentRequired, SkiffError
from skiff_kit.settings import ServiceSettings


class NewUser(msgspec.Struct):
    """A body with a few typed fields."""

    email: str
    age: int
    tags: list[str] = []


class Order(msgspec.Struct):
    """A nested body."""

    lines: list[NewUser]


@post("/users")
async def create_user(data: JSONBody[NewUser]) -> NewUser:
    """Echo the body."""
    return data


class Strict(msgspec.Struct, forbid_unknown_fields=True):
    """A body that refuses fields it does not declare (mass assignment)."""

    name: str


@post("/strict")
async def create_strict(data: JSONBody[Strict]) -> Strict:
    """Echo the body."""
    return data


@post("/orders")
async def create_order(data: JSONBody[Order]) -> Order:
    """Echo the body."""
    return data


@get("/search")
async def search(
    limit: Annotated[int, QueryParameter(ge=1, le=200)], q: FromQuery[str] = ""
) -> str:
    """A required, bounded query parameter."""
    return q


@get("/conflict")
async def conflict() -> None:
    """Raise a domain error."""
    raise Conflict("Email already registered", details={"email": "a@example.com"})


@get("/credits")
async def credits() -> None:
    """Raise a domain error with another code."""
    raise PaymentRequired(details={"required": 100, "available": 3})


@get("/custom-code")
async def custom_code() -> None:
    """A domain error with its own code."""
    raise NotFound("No such session", code="session_not_found")


@get("/teapot")
async def teapot() -> None:
    """A Litestar HTTP exception of an unusual status."""
    raise HTTPException(status_code=418, detail="I am a teapot")


@get("/crash")
async def crash() -> None:
    """Fail in a way nobody planned for."""
    raise RuntimeError("password=hunter2 in /srv/secret.py")


@get("/crash-skiff")
async def crash_skiff() -> None:
    """A bare SkiffError is a 500."""
    raise SkiffError()


@pytest.fixture
async def client(
    make_settings: Callable[..., ServiceSettings],
) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(
        make_settings(),
        route_handlers=[
            create_user,
            create_strict,
            create_order,
            search,
            conflict,
            credits,
            custom_code,
            teapot,
            crash,
            crash_skiff,
        ],
    )
    async with AsyncTestClient(app) as test_client:
        yield test_client


def assert_error_shape(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error", "code", "details", "request_id"}
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert body["error"]
    assert body["request_id"].startswith("req_")


async def test_missing_field(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/users", json={"age": 3})
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert body["details"]["fields"] == [{"field": "email", "message": "is required"}]
    assert response.headers["x-request-id"] == body["request_id"]


async def test_wrong_type(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/users", json={"email": "a@example.com", "age": "three"})
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert body["details"]["fields"] == [{"field": "age", "message": "Expected `int`, got `str`"}]


async def test_nested_field_path(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/orders", json={"lines": [{"email": "a", "age": 1}, {"age": 2}]})
    assert response.status_code == 400
    fields = response.json()["details"]["fields"]
    assert fields == [{"field": "lines[1].email", "message": "is required"}]


async def test_an_unknown_field_is_named(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/strict", json={"name": "a", "role": "owner"})
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert body["details"]["fields"] == [
        {"field": "role", "message": "`role` is not a field of this request"}
    ]


async def test_malformed_json(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/users", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert body["details"]["fields"][0]["field"] == "body"


async def test_missing_body(client: AsyncTestClient[Any]) -> None:
    response = await client.post("/users")
    assert response.status_code == 400
    body = response.json()
    assert_error_shape(body, "validation_error")
    assert body["details"]["fields"][0]["field"] == "body"


async def test_query_parameters(client: AsyncTestClient[Any]) -> None:
    missing = await client.get("/search")
    assert missing.status_code == 400
    assert_error_shape(missing.json(), "validation_error")
    assert missing.json()["details"]["fields"] == [{"field": "limit", "message": "is required"}]

    bad = await client.get("/search", params={"limit": "0"})
    assert bad.status_code == 400
    assert [f["field"] for f in bad.json()["details"]["fields"]] == ["limit"]


async def test_unknown_route(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/nothing/here")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")
    assert response.headers["x-request-id"] == response.json()["request_id"]


async def test_method_not_allowed(client: AsyncTestClient[Any]) -> None:
    response = await client.delete("/users")
    assert response.status_code == 405
    assert_error_shape(response.json(), "method_not_allowed")
    assert "post" in response.headers["allow"].lower()


@pytest.mark.parametrize(
    ("path", "status", "code", "details"),
    [
        ("/conflict", 409, "conflict", {"email": "a@example.com"}),
        ("/credits", 402, "insufficient_credits", {"required": 100, "available": 3}),
        ("/custom-code", 404, "session_not_found", {}),
        ("/teapot", 418, "i_m_a_teapot", {}),
    ],
)
async def test_raised_errors(
    client: AsyncTestClient[Any], path: str, status: int, code: str, details: dict[str, Any]
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    body = response.json()
    assert_error_shape(body, code)
    assert body["details"] == details


async def test_domain_error_message(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/conflict")).json()["error"] == "Email already registered"


@pytest.mark.parametrize("path", ["/crash", "/crash-skiff"])
async def test_unexpected_exception_reveals_nothing(
    client: AsyncTestClient[Any], path: str
) -> None:
    response = await client.get(path, headers={"x-request-id": "trace-me-1"})
    assert response.status_code == 500
    body = response.json()
    assert body == {
        "error": "Internal server error",
        "code": "internal_error",
        "details": {},
        "request_id": "trace-me-1",
    }
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text

"""A route's docstring documents it: first paragraph → OpenAPI summary, the rest → description."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar import get, post
from litestar.testing import TestClient
from skiff_kit.app import create_app, docstring_parts
from skiff_kit.settings import ServiceSettings


@get("/api/v1/things", sync_to_thread=False)
def list_things() -> list[str]:
    """List the things of the organization.

    Newest first; a viewer sees them too.
    """
    return []


@post("/api/v1/things", sync_to_thread=False, summary="Make a thing", description="Chosen.")
def make_thing() -> str:
    """This docstring is not what the decorator chose."""
    return "made"


@get("/api/v1/bare", sync_to_thread=False)
def bare_handler() -> str:
    return "bare"


@pytest.fixture
def document(make_settings: Callable[..., ServiceSettings]) -> dict[str, Any]:
    app = create_app(make_settings(), route_handlers=[list_things, make_thing, bare_handler])
    with TestClient(app) as client:
        response = client.get("/openapi.json")
    assert response.status_code == 200
    paths: dict[str, Any] = response.json()["paths"]
    return paths


def test_the_docstring_becomes_the_summary_and_description(document: dict[str, Any]) -> None:
    listed = document["/api/v1/things"]["get"]

    assert listed["summary"] == "List the things of the organization."
    assert listed["description"] == "Newest first; a viewer sees them too."


def test_what_the_decorator_says_wins(document: dict[str, Any]) -> None:
    made = document["/api/v1/things"]["post"]

    assert (made["summary"], made["description"]) == ("Make a thing", "Chosen.")


def test_a_handler_without_docstring_keeps_litestars_summary(document: dict[str, Any]) -> None:
    assert document["/api/v1/bare"]["get"]["summary"] == "BareHandler"
    assert "description" not in document["/api/v1/bare"]["get"]


def test_the_kits_own_routes_are_documented_too(document: dict[str, Any]) -> None:
    assert document["/health"]["get"]["summary"]
    assert document["/health"]["get"]["summary"] != "Health"


@pytest.mark.parametrize(
    ("docstring", "parts"),
    [
        (None, (None, None)),
        ("   ", (None, None)),
        ("One line.", ("One line.", None)),
        (
            "A summary that\nwraps.\n\nMore.\n\nAnd more.",
            ("A summary that wraps.", "More.\n\nAnd more."),
        ),
    ],
)
def test_docstring_parts(docstring: str | None, parts: tuple[str | None, str | None]) -> None:
    assert docstring_parts(docstring) == parts

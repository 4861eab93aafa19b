"""What the request-context middleware keeps while doing less: ids, and the access line's level."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from skiff_kit.app import create_app
from skiff_kit.request_context import new_request_id, sane_request_id
from skiff_kit.settings import ServiceSettings


@get("/ping", sync_to_thread=False)
def ping() -> str:
    """Answer."""
    return "pong"


def access_lines(text: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def test_request_ids_are_sane_unique_and_sort_by_time() -> None:
    earlier = [new_request_id() for _ in range(1000)]
    time.sleep(0.002)
    later = new_request_id()

    assert all(re.fullmatch(r"req_[0-9a-f]{28}", rid) for rid in earlier)
    assert all(sane_request_id(rid) == rid for rid in earlier)
    assert len(set(earlier)) == len(earlier)
    assert max(earlier) < later


@pytest.mark.parametrize(("level", "logged"), [("info", 1), ("warning", 0)])
async def test_the_access_line_follows_the_log_level(
    capsys: pytest.CaptureFixture[str],
    make_settings: Callable[..., ServiceSettings],
    level: str,
    logged: int,
) -> None:
    app = create_app(make_settings(log_level=level), route_handlers=[ping])
    async with AsyncTestClient(app) as client:
        response = await client.get("/ping")

    assert response.headers["x-request-id"].startswith("req_")
    lines = access_lines(capsys.readouterr().err)
    assert len(lines) == logged
    if logged:
        assert (lines[0]["path"], lines[0]["status"]) == ("/ping", 200)
        assert lines[0]["request_id"] == response.headers["x-request-id"]


async def test_probes_are_logged_only_at_debug(
    capsys: pytest.CaptureFixture[str], make_settings: Callable[..., ServiceSettings]
) -> None:
    for level, logged in (("info", 0), ("debug", 1)):
        app = create_app(make_settings(log_level=level), route_handlers=[ping])
        async with AsyncTestClient(app) as client:
            await client.get("/health")
        lines = access_lines(capsys.readouterr().err)
        assert [line["path"] for line in lines] == ["/health"] * logged

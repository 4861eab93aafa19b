"""Log lines are JSON with the service, the request id and the trace, stdlib ones included."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from litestar import get
from litestar.testing import AsyncTestClient
from skiff_kit.app import create_app
from skiff_kit.logging import configure_logging, get_logger, parse_level
from skiff_kit.settings import ServiceSettings


@get("/work")
async def work() -> str:
    """Log something while handling a request."""
    get_logger("test.work").info("did_work", amount=3)
    return "done"


@get("/explode")
async def explode() -> None:
    """Fail unexpectedly."""
    raise ValueError("kaboom")


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_request_logs_carry_request_and_trace_ids(
    capsys: pytest.CaptureFixture[str], make_settings: Callable[..., ServiceSettings]
) -> None:
    app = create_app(make_settings(service_name="logsvc"), route_handlers=[work])
    async with AsyncTestClient(app) as client:
        response = await client.get("/work", headers={"x-request-id": "req-log-1"})
    assert response.status_code == 200
    lines = json_lines(capsys.readouterr().err)
    worked = next(line for line in lines if line["event"] == "did_work")
    assert worked["service"] == "logsvc"
    assert worked["request_id"] == "req-log-1"
    assert worked["amount"] == 3
    assert worked["level"] == "info"
    assert worked["timestamp"].endswith("Z")
    assert len(worked["trace_id"]) == 32
    assert len(worked["span_id"]) == 16
    access = next(line for line in lines if line["event"] == "request")
    assert access["method"] == "GET"
    assert access["path"] == "/work"
    assert access["status"] == 200
    assert access["duration_ms"] >= 0
    assert access["request_id"] == "req-log-1"
    assert access["trace_id"] == worked["trace_id"]


async def test_unexpected_exception_is_logged_with_traceback(
    capsys: pytest.CaptureFixture[str], make_settings: Callable[..., ServiceSettings]
) -> None:
    app = create_app(make_settings(), route_handlers=[explode])
    async with AsyncTestClient(app) as client:
        response = await client.get("/explode", headers={"x-request-id": "req-boom-1"})
    assert response.status_code == 500
    lines = json_lines(capsys.readouterr().err)
    failure = next(line for line in lines if line["event"] == "unhandled_exception")
    assert failure["level"] == "error"
    assert failure["request_id"] == "req-boom-1"
    assert failure["path"] == "/explode"
    assert "kaboom" in json.dumps(failure["exception"])


def test_stdlib_logging_goes_through_the_same_formatting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(service="stdlib-svc", log_format="json", level="info")
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("sqlalchemy.engine").debug("not shown at info")
    # The line of that logger (a background task of an earlier test may log meanwhile).
    [line] = [x for x in json_lines(capsys.readouterr().err) if x.get("logger") == "uvicorn.error"]
    assert line["event"] == "Started server process [42]"
    assert line["service"] == "stdlib-svc"
    assert line["logger"] == "uvicorn.error"


def test_console_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(service="console-svc", log_format="console", level="debug")
    get_logger("test").debug("hello_console", x=1)
    err = capsys.readouterr().err
    assert "hello_console" in err
    assert "x=1" in err
    assert not err.lstrip().startswith("{")


def test_levels() -> None:
    assert parse_level("INFO") == logging.INFO
    assert parse_level("warning") == logging.WARNING
    with pytest.raises(ValueError, match="unknown log level"):
        parse_level("loud")

"""`run_service` as a real process: both ports, shared public port, clean SIGTERM, migrate."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from skiff_embedded import distinct_free_ports, free_port
from skiff_kit.database_setup import bootstrap_database
from skiff_kit.runner import bind_socket
from skiff_testing.databases import TestDatabase

SAMPLE = str(Path(__file__).parent / "sample_service.py")


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, SAMPLE, *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"service exited: {process.communicate()[1]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never became healthy")


def test_serves_both_ports_and_stops_on_sigterm() -> None:
    port, private_port = distinct_free_ports(2)
    process = start(
        {
            "SKIFF_SERVICE_NAME": "sample",
            "SKIFF_PORT": str(port),
            "SKIFF_PRIVATE_PORT": str(private_port),
            "SKIFF_GREETING": "ahoy",
        }
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process)
        wait_healthy(f"http://127.0.0.1:{private_port}/health", process)
        greet = httpx.get(f"http://127.0.0.1:{port}/greet", headers={"x-request-id": "run-1"})
        assert greet.json() == {"greeting": "ahoy"}
        assert greet.headers["x-request-id"] == "run-1"
        assert "server" not in greet.headers
        # Another replica could bind the same public port (SO_REUSEPORT), not the private one.
        bind_socket("127.0.0.1", port, reuse_port=True).close()
        with pytest.raises(OSError):
            bind_socket("127.0.0.1", private_port, reuse_port=False).close()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["event"] == "request"]
    assert {"method": "GET", "path": "/greet", "status": 200}.items() <= access[0].items()
    assert access[0]["request_id"] == "run-1"
    assert access[0]["service"] == "sample"
    assert all(line["path"] != "/health" for line in access)  # probes log at debug
    assert not any(line.get("logger") == "uvicorn.access" for line in lines)
    assert "stopped" in [line["event"] for line in lines]


def test_a_forwarded_for_header_never_changes_the_client_address() -> None:
    # uvicorn believes X-Forwarded-For from local peers unless told not to; the gateway alone
    # decides which proxies to trust, so a local caller must not choose its own address.
    port = free_port()
    process = start({"SKIFF_SERVICE_NAME": "sample", "SKIFF_PORT": str(port)})
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/whoami",
            headers={"x-forwarded-for": "6.6.6.6", "x-forwarded-proto": "https"},
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert answer.json() == {"client": "127.0.0.1"}


def test_every_service_serves_with_the_http_limits_of_its_settings() -> None:
    port = free_port()
    settings = {"SKIFF_SERVICE_NAME": "sample", "SKIFF_PORT": str(port)}
    process = start({**settings, "SKIFF_HTTP_MAX_HEADER_COUNT": "8"})
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process)
        url = f"http://127.0.0.1:{port}/greet"
        # httpx sends host, accept, accept-encoding, connection, user-agent: 5 + 3 = 8.
        allowed = httpx.get(url, headers={f"x-h{n}": "v" for n in range(3)})
        refused = httpx.get(url, headers={f"x-h{n}": "v" for n in range(4)})
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert allowed.status_code == 200
    assert refused.status_code == 431
    assert refused.json()["code"] == "request_header_fields_too_large"
    assert refused.json()["details"] == {"limit": "header_count", "max": 8}


def test_bad_settings_exit_with_a_message() -> None:
    process = start({"SKIFF_PORT": "not-a-port", "SKIFF_HTTP_BODY_TIMEOUT_SECONDS": "0"})
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "SKIFF_PORT" in stderr
    assert "SKIFF_HTTP_BODY_TIMEOUT_SECONDS" in stderr  # a timeout must be positive


def test_openapi_command_prints_the_document() -> None:
    process = start({"SKIFF_SERVICE_NAME": "sample"}, "openapi")
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    document = json.loads(stdout)
    assert document["info"]["title"] == "Skiff sample"
    assert "/greet" in document["paths"]


def test_an_unknown_setting_is_named_at_start_with_a_hint() -> None:
    process = start(
        {"SKIFF_SERVICE_NAME": "sample", "SKIFF_GRETING": "ahoy", "SKIFF_SMTP_HOST": "mail"},
        "openapi",
    )
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    json.loads(stdout)  # the warning goes to the log (stderr), never into the document
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    warned = {
        line["variable"]: line for line in lines if line["event"] == "unknown setting ignored"
    }
    assert warned["SKIFF_GRETING"]["did_you_mean"] == "SKIFF_GREETING"
    assert warned["SKIFF_GRETING"]["level"] == "warning"
    assert warned["SKIFF_GRETING"]["service"] == "sample"
    assert "SKIFF_SMTP_HOST" not in warned  # notification's setting: known


async def test_migrate_command(fresh_database: TestDatabase, postgres_admin_dsn: str) -> None:
    await bootstrap_database(
        postgres_admin_dsn, database=fresh_database.name, roles={"kit_run": "run-pass"}
    )
    process = start(
        {
            "SKIFF_DATABASE_URL": fresh_database.sqlalchemy_url("skiff_kit_run", "run-pass"),
            "SKIFF_DATABASE_SCHEMA": "kit_run",
        },
        "migrate",
    )
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    connection = await asyncpg.connect(fresh_database.dsn())
    try:
        assert (
            await connection.fetchval("select version_num from kit_run.alembic_version") == "0002"
        )
    finally:
        await connection.close()


def test_migrate_needs_a_database() -> None:
    process = start({}, "migrate")
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "SKIFF_DATABASE_URL" in stderr

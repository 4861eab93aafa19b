"""Health probes: `GET /health` on a process's private port, and plain TCP checks."""

from __future__ import annotations

import http.client
import json
import socket


def healthy(port: int, service: str, *, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """True when `GET /health` answers 200 with `{"status": "ok", "service": service, ...}`.

    The service's name is checked: a port handed to a process that has not bound it yet may
    be answered by another one, and its "ok" must not count for the process still starting.
    """
    status, body = _get(host, port, "/health", timeout)
    try:
        document = json.loads(body)
    except ValueError:
        return False
    return (
        status == 200
        and isinstance(document, dict)
        and document.get("status") == "ok"
        and document.get("service") == service
    )


def nats_healthy(monitor_port: int, *, timeout: float = 1.0) -> bool:
    """True when the NATS monitoring endpoint reports JetStream healthy."""
    status, _ = _get("127.0.0.1", monitor_port, "/healthz?js-enabled-only=true", timeout)
    return status == 200


def port_open(port: int, *, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _get(host: str, port: int, path: str, timeout: float) -> tuple[int, bytes]:
    """A plain HTTP GET (no TLS set-up, so probing many processes stays cheap); 0 on failure."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        connection.close()

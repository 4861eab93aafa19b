"""Health probes count only the process they mean, and a stack's ports never repeat."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from skiff_cli.probe import healthy
from skiff_embedded import ports


class _Gateway(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "service": "gateway"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gateway_port() -> Iterator[int]:
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1])
    server.shutdown()
    server.server_close()


def test_an_ok_from_another_service_does_not_count(gateway_port: int) -> None:
    # A port handed to billing, answered by a gateway that bound it first: billing is not up.
    assert healthy(gateway_port, "gateway")
    assert not healthy(gateway_port, "billing")


class _Socket:
    """A socket whose bind(0) is handed the next of `handed`."""

    handed: Iterator[int] = iter(())

    def __init__(self, *args: object) -> None:
        self.port = next(self.handed)

    def __enter__(self) -> _Socket:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def bind(self, address: tuple[str, int]) -> None:
        pass

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_a_free_port_skips_the_ports_to_avoid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Socket, "handed", iter([41001, 41003, 41005]))
    monkeypatch.setattr(socket, "socket", _Socket)
    assert ports.free_port(avoid={41001, 41003}) == 41005


def test_distinct_free_ports_never_repeat_a_port_handed_out_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kernel may hand a port just released out again at once.
    monkeypatch.setattr(_Socket, "handed", iter([41001, 41001, 41002, 41001, 41002, 41003]))
    monkeypatch.setattr(socket, "socket", _Socket)
    assert ports.distinct_free_ports(3) == [41001, 41002, 41003]

"""Finding free loopback ports and waiting for a port to answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Collection


def free_port(avoid: Collection[int] = ()) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now and is not in `avoid`.

    The port is free only until somebody binds it: give `avoid` the ports already handed out
    and not yet bound, or two processes may be told the same one.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def distinct_free_ports(count: int, avoid: Collection[int] = ()) -> list[int]:
    """`count` free ports, all different and none in `avoid`: what processes about to bind
    one each need, since a port just released may be handed out again at once."""
    ports: list[int] = []
    for _ in range(count):
        ports.append(free_port(avoid={*avoid, *ports}))
    return ports


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(port: int, *, timeout: float, what: str) -> None:
    """Block until host:port accepts connections, or raise TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not open port {port} within {timeout:.0f}s")

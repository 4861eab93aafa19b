"""A tripwire for tests: any connect to an address other than loopback raises and is recorded.

Patches the places a TCP connection starts in this process (the event loop's
`create_connection` and `sock_connect`, and `socket.socket.connect`/`connect_ex`), so a broken
address guard fails the test instead of reaching the address. Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

_LOCAL_NAMES = {"localhost"}


class NonLoopbackConnect(ConnectionRefusedError):
    """A connection to a non-loopback address was attempted (and stopped)."""


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True  # a protocol on an already connected socket
    text = str(host).strip("[]").split("%", 1)[0]
    if text in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def loopback_only() -> Iterator[list[str]]:
    """The block runs with the tripwire; yields the list of refused targets (`host:port`)."""
    refused: list[str] = []
    loop_class = asyncio.BaseEventLoop
    original_create = loop_class.create_connection
    original_sock_connect = loop_class.sock_connect
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def check(host: Any, port: Any) -> None:
        if not _is_loopback(host):
            refused.append(f"{host}:{port}")
            raise NonLoopbackConnect(f"tests may only connect to loopback, not {host}:{port}")

    async def create_connection(
        self: Any, factory: Any, host: Any = None, port: Any = None, *args: Any, **kwargs: Any
    ) -> Any:
        check(host, port)
        return await original_create(self, factory, host, port, *args, **kwargs)

    async def sock_connect(self: Any, sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return await original_sock_connect(self, sock, address)

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return original_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return original_connect_ex(self, address)

    patches: list[tuple[Any, str, Any]] = [
        (loop_class, "create_connection", create_connection),
        (loop_class, "sock_connect", sock_connect),
        (socket.socket, "connect", connect),
        (socket.socket, "connect_ex", connect_ex),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, replacement in patches:
        setattr(owner, name, replacement)
    try:
        yield refused
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)

"""Keep-alive HTTP/1.1 connections to the services, on asyncio protocols and httptools.

The gateway's hottest code: one request costs a few writes and one parse, with no client
library in between. Response bodies stream back with back-pressure both ways.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlsplit

import httptools
import msgspec
from skiff_kit.settings import SettingsError

_HIGH_WATER = 256 * 1024  # buffered response bytes before the upstream socket is paused
_KEEPALIVE_SECONDS = 4.0  # below the services' (uvicorn's) 5 s keep-alive


class UpstreamUnreachable(Exception):
    """Nothing accepted the connection."""


class UpstreamTimeout(Exception):
    """The service did not connect or answer in time."""


class UpstreamBroken(Exception):
    """The service closed the connection early or answered something that is not HTTP."""


@dataclass(frozen=True, slots=True)
class Upstream:
    """Where one service listens."""

    name: str
    host: str
    port: int
    prefix: str
    tls: bool
    host_header: bytes = field(repr=False)

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host_header.decode()}{self.prefix}"

    @classmethod
    def parse(cls, name: str, url: str) -> Upstream:
        parts = urlsplit(url)
        tls = parts.scheme == "https"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"upstream {name}: {url!r} is not an http(s) URL")
        port = parts.port or (443 if tls else 80)
        return cls(name, parts.hostname, port, parts.path.rstrip("/"), tls, parts.netloc.encode())


def _expire(waiter: asyncio.Future[None], name: str) -> None:
    if not waiter.done():
        waiter.set_exception(UpstreamTimeout(f"{name} did not answer in time"))


def upstreams_from(upstreams_json: str) -> dict[str, Upstream]:
    """`SKIFF_UPSTREAMS` (JSON `{service: base URL}`) parsed; bad values name the variable."""
    try:
        urls = msgspec.json.decode(upstreams_json or "{}", type=dict[str, str])
        return {name: Upstream.parse(name, url) for name, url in urls.items()}
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as error:
        raise SettingsError({"SKIFF_UPSTREAMS": str(error)}) from None


class Connection(asyncio.Protocol):
    """One connection to a service, carrying one exchange at a time."""

    def __init__(self, upstream: Upstream) -> None:
        self.upstream = upstream
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._writable = True
        self.reset()

    def reset(self) -> None:
        """Ready for the next exchange."""
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.error: Exception | None = None
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.length: int | None = None  # the answer's Content-Length, if it has one

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self.error = UpstreamBroken(f"invalid HTTP from {self.upstream.name}: {error}")
            self.close()
        self._wake()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete and self.error is None:
            self.error = UpstreamBroken(f"{self.upstream.name} closed the connection")
        self._writable = True
        self._wake()

    def pause_writing(self) -> None:
        self._writable = False

    def resume_writing(self) -> None:
        self._writable = True
        self._wake()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        if len(name) == 14 and name.lower() == b"content-length" and value.isdigit():
            self.length = int(value)

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        self.head_done = True

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        self.complete = True

    # the exchange
    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, read_timeout: float) -> None:
        # A timer on the future rather than `asyncio.timeout`: a third of the cost per wait.
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(read_timeout, _expire, waiter, self.upstream.name)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise UpstreamBroken(f"{self.upstream.name} closed the connection")
        self.transport.write(data)

    async def drain(self, read_timeout: float) -> None:
        """Wait while the socket buffer is full; returns early once the answer has begun."""
        while not self._writable and not self.head_done and self.error is None:
            await self._wait(read_timeout)

    async def read_head(self, read_timeout: float) -> None:
        """Wait for the status line and headers (HEAD answers end there)."""
        while not self.head_done:
            if self.error is not None:
                raise self.error
            await self._wait(read_timeout)

    async def read_small(self, read_timeout: float, limit: int) -> None:
        """Wait for the whole body when it is short and sized (to answer it in one go)."""
        while not self.complete and self.length is not None and self.length <= limit:
            if self.error is not None:
                raise self.error
            await self._wait(read_timeout)

    async def body(self, read_timeout: float) -> AsyncIterator[bytes]:
        """The response body as it arrives; raises if the service breaks off."""
        while True:
            while self.chunks:
                chunk = self.chunks.popleft()
                self.buffered -= len(chunk)
                if self.buffered <= _HIGH_WATER // 2 and self.transport is not None:
                    self.transport.resume_reading()
                yield chunk
            if self.complete:
                return
            if self.error is not None:
                raise self.error
            await self._wait(read_timeout)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class UpstreamPool:
    """Idle keep-alive connections per service, reused most-recent first."""

    def __init__(self, *, connect_timeout: float, max_idle: int = 128) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        self._idle: dict[str, list[Connection]] = {}
        self._tls = ssl.create_default_context()

    async def acquire(self, upstream: Upstream) -> tuple[Connection, bool]:
        """A connection to `upstream` and whether it was reused (it may have gone stale)."""
        idle = self._idle.get(upstream.name)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if not connection.closed and now - connection.idle_since < _KEEPALIVE_SECONDS:
                connection.reset()
                return connection, True
            connection.close()
        return await self.connect(upstream), False

    async def connect(self, upstream: Upstream) -> Connection:
        """A new connection; `UpstreamUnreachable` or `UpstreamTimeout` when it fails."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: Connection(upstream),
                    upstream.host,
                    upstream.port,
                    ssl=self._tls if upstream.tls else None,
                )
        except TimeoutError:
            raise UpstreamTimeout(f"{upstream.name}: connect timed out") from None
        except OSError as error:
            raise UpstreamUnreachable(f"{upstream.name}: {error}") from error
        return connection

    def release(self, connection: Connection) -> None:
        """Keep `connection` for the next request if its exchange ended cleanly."""
        if connection.closed or not connection.complete or not connection.keep_alive:
            connection.close()
            return
        idle = self._idle.setdefault(connection.upstream.name, [])
        if len(idle) >= self.max_idle:
            connection.close()
            return
        connection.idle_since = time.monotonic()
        idle.append(connection)

    def close(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                connection.close()
        self._idle.clear()

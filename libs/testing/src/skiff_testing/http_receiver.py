"""A small HTTP/1.1 server on 127.0.0.1 that receives webhooks and answers as it is told.

Plain asyncio (keep-alive, Content-Length bodies): cheap enough that a benchmark measures the
sender, not the receiver. Each request is kept with its headers, exact body bytes and arrival
time; `answer` decides the reply per request (a status, headers, or a hang).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b"ok"
    hang: bool = False  # never answer (until the server stops)
    delay: float = 0.0  # seconds before answering


Answer = Callable[[Received], Reply]
_REASONS = {200: "OK", 204: "No Content", 410: "Gone", 429: "Too Many Requests"}


class Receiver:
    """Keeps what it receives; `received` in arrival order, `arrived` set on each one."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer: Answer = answer or (lambda _: Reply())
        self.received: list[Received] = []
        self.arrived = asyncio.Event()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._hung: set[asyncio.Future[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for waiter in self._hung:
            waiter.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def wait_for(self, count: int, *, within: float = 10.0) -> list[Received]:
        """The first `count` requests; fails if they do not arrive in time."""
        deadline = time.monotonic() + within
        while len(self.received) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"{count} requests expected, {len(self.received)} received"
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(left, 0.5))
        return self.received[:count]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.received.append(request)
                self.arrived.set()
                reply = self.answer(request)
                if reply.hang:
                    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                    self._hung.add(waiter)
                    await waiter
                    return
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                writer.write(_encode(reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Received | None:
    line = await reader.readline()
    if not line:
        return None
    method, path, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Received(method=method, path=path, headers=headers, body=body)


def _encode(reply: Reply) -> bytes:
    head = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Status')}"]
    head += [f"{name}: {value}" for name, value in reply.headers]
    head.append(f"content-length: {len(reply.body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body


@contextlib.asynccontextmanager
async def receiving(answer: Answer | None = None, port: int = 0) -> AsyncIterator[Receiver]:
    """A running receiver for the block."""
    receiver = Receiver(answer)
    await receiver.start(port)
    try:
        yield receiver
    finally:
        await receiver.stop()

"""A light HTTP/1.1 load generator: fixed concurrency, keep-alive, one prebuilt request.

Written on asyncio protocols (no coroutine, no parser object per request) so that on a
two-core machine it leaves the servers most of the CPU: a few microseconds per request.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import cast

_HEAD_END = b"\r\n\r\n"
_CHUNKED_END = b"0\r\n\r\n"


def build_request(path: str, headers: dict[str, str], *, host: str = "127.0.0.1") -> bytes:
    """The raw bytes of a keep-alive GET of `path` with `headers`."""
    lines = [f"GET {path} HTTP/1.1", f"host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class Result:
    """What one run saw: answers by status and each request's latency in nanoseconds."""

    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ns: list[int] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies_ns)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        """The `q` quantile (0..1) of the latencies, in milliseconds."""
        ordered = sorted(self.latencies_ns)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6

    def mean_ms(self) -> float:
        return statistics.fmean(self.latencies_ns) / 1e6 if self.latencies_ns else float("nan")


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending the request again as soon as the answer is complete."""

    def __init__(self, request: bytes, result: Result, deadline: float, done: asyncio.Future[None]):
        self.request = request
        self.result = result
        self.deadline = deadline
        self.done = done
        self.buffer = bytearray()
        self.expected = -1
        self.started = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's is not a subclass
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.buffer.clear()
        self.expected = -1
        self.started = time.perf_counter_ns()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.expected < 0:
            head_end = self.buffer.find(_HEAD_END)
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).lower()
            marker = head.find(b"content-length:")
            if marker >= 0:
                end = head.find(b"\r\n", marker)
                length = int(head[marker + 15 : end if end >= 0 else None])
                self.expected = head_end + 4 + length
            else:
                self.expected = 0  # chunked: complete when the last chunk arrives
            self.status = int(self.buffer[9:12])
        if self.expected > 0 and len(self.buffer) < self.expected:
            return
        if self.expected == 0 and not self.buffer.endswith(_CHUNKED_END):
            return
        self.result.latencies_ns.append(time.perf_counter_ns() - self.started)
        self.result.statuses[self.status] = self.result.statuses.get(self.status, 0) + 1
        if time.perf_counter() < self.deadline:
            self._send()
        else:
            self._finish()

    def _finish(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def run(host: str, port: int, request: bytes, *, concurrency: int, seconds: float) -> Result:
    """Keep `concurrency` requests in flight for `seconds`; every answer is counted."""
    loop = asyncio.get_running_loop()
    result = Result()
    started = time.perf_counter()
    deadline = started + seconds
    waiters: list[asyncio.Future[None]] = []
    for _ in range(concurrency):
        done: asyncio.Future[None] = loop.create_future()
        waiters.append(done)
        await loop.create_connection(
            lambda done=done: _Connection(request, result, deadline, done), host, port
        )
    await asyncio.gather(*waiters)
    result.seconds = time.perf_counter() - started
    return result


class _Sequential(asyncio.Protocol):
    """One keep-alive connection sending one request at a time, when asked."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(_HEAD_END)
        if head_end < 0 or self.waiter is None or self.waiter.done():
            return
        head = bytes(self.buffer[:head_end]).lower()
        marker = head.find(b"content-length:")
        end = head.find(b"\r\n", marker)
        length = int(head[marker + 15 : end if end >= 0 else None]) if marker >= 0 else 0
        if len(self.buffer) >= head_end + 4 + length:
            self.waiter.set_result(None)

    async def request(self, data: bytes) -> int:
        """Send `data`, wait for the whole answer; its latency in nanoseconds."""
        assert self.transport is not None
        self.buffer.clear()
        self.waiter = asyncio.get_running_loop().create_future()
        started = time.perf_counter_ns()
        self.transport.write(data)
        await self.waiter
        return time.perf_counter_ns() - started


async def alternate(
    host: str, targets: dict[str, tuple[int, bytes]], *, seconds: float
) -> dict[str, Result]:
    """One request at a time, to each target in turn, for `seconds`: their latencies side by
    side (a noisy moment hits every target alike)."""
    loop = asyncio.get_running_loop()
    connections: dict[str, _Sequential] = {}
    for name, (port, _) in targets.items():
        _, protocol = await loop.create_connection(_Sequential, host, port)
        connections[name] = protocol
    results = {name: Result() for name in targets}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for name, (_, data) in targets.items():
            results[name].latencies_ns.append(await connections[name].request(data))
    for protocol in connections.values():
        if protocol.transport is not None:
            protocol.transport.close()
    return results

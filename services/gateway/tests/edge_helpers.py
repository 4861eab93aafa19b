"""A raw HTTP/1.1 client for the edge tests: bytes exactly as written, answers as they come."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import msgspec


@dataclass
class Answer:
    """One HTTP answer read off a socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def error(self, status: int, code: str) -> dict[str, Any]:
        """The API error shape with this status and code; returns the body."""
        assert self.status == status, (self.status, self.body)
        assert self.headers["content-type"] == "application/json"
        body: dict[str, Any] = msgspec.json.decode(self.body)
        assert set(body) == {"error", "code", "details", "request_id"}, body
        assert body["code"] == code, body
        assert body["request_id"] == self.headers["x-request-id"]
        return body


class RawClient:
    """One TCP connection to `base_url`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, base_url: str) -> RawClient:
        host, port = base_url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self, seconds: float = 10.0) -> Answer | None:
        """The next answer; None if the server closed the connection before one began."""
        async with asyncio.timeout(seconds):
            try:
                head = await self.reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as cut:
                if cut.partial:
                    raise AssertionError(f"a cut answer: {cut.partial!r}") from None
                return None
            lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            if headers.get("transfer-encoding") == "chunked":
                body = await self._chunks()
            else:
                body = await self.reader.readexactly(int(headers.get("content-length", "0")))
            return Answer(int(lines[0].split(" ", 2)[1]), headers, body)

    async def _chunks(self) -> bytes:
        body = b""
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            body += (await self.reader.readexactly(size + 2))[:-2]
        await self.reader.readuntil(b"\r\n")
        return body

    async def closed_within(self, seconds: float) -> float:
        """Seconds until the server closes the connection (reading and dropping any bytes)."""
        started = time.monotonic()
        async with asyncio.timeout(seconds):
            while await self.reader.read(65536):
                pass
        return time.monotonic() - started

    async def trickle(self, data: bytes, *, every: float, size: int = 1) -> None:
        """`data` in pieces of `size` bytes, `every` seconds apart (until the server hangs up)."""
        try:
            for index in range(0, len(data), size):
                self.writer.write(data[index : index + size])
                await self.writer.drain()
                await asyncio.sleep(every)
        except ConnectionError:
            pass

    def close(self) -> None:
        self.writer.close()


def request(method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    """A request head (with `Host`) and body, as bytes."""
    lines = [f"{method} {target} HTTP/1.1", "host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

"""Playing sandbox-runners for the placement tests: their file routes and their placements."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import msgspec
import nats
from litestar.types import Receive, Scope, Send
from nats.js.api import KeyValueConfig, StorageType
from nats.js.kv import KeyValue
from skiff_contracts.live import PLACEMENT_BUCKET, Placement


@dataclass
class Seen:
    """One request as a runner received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body_length: int
    body_sha256: str


@dataclass
class FakeRunner:
    """Records every request; `?download=N` answers N bytes in 64 KiB chunks, else JSON."""

    name: str
    seen: list[Seen] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = "startup" if message["type"] == "lifespan.startup" else "shutdown"
                await send({"type": f"lifespan.{kind}.complete"})  # type: ignore[typeddict-item]
                if kind == "shutdown":
                    return
        digest, length = hashlib.sha256(), 0
        while True:
            message = await receive()
            chunk: bytes = message.get("body", b"")  # type: ignore[assignment]
            digest.update(chunk)
            length += len(chunk)
            if not message.get("more_body", False):
                break
        query = scope["query_string"].decode("latin-1")
        with self._lock:
            self.seen.append(
                Seen(
                    method=scope["method"],
                    path=scope["path"],
                    query=query,
                    headers={k.decode(): v.decode() for k, v in scope["headers"]},
                    body_length=length,
                    body_sha256=digest.hexdigest(),
                )
            )
        download = int(parse_qs(query).get("download", ["0"])[0])
        if download:
            await self._stream(send, download)
            return
        body = msgspec.json.encode({"runner": self.name, "path": scope["path"]})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _stream(send: Send, size: int) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/gzip")],
            }
        )
        sent = 0
        while sent < size:
            chunk = pattern(sent, min(64 * 1024, size - sent))
            sent += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


def pattern(offset: int, length: int) -> bytes:
    """Deterministic bytes (so a download can be checked without keeping it)."""
    return bytes((offset + n) % 251 for n in range(length))


class PlacementBucket:
    """The `sandbox-placement` bucket as runners write it."""

    def __init__(self, kv: KeyValue) -> None:
        self.kv = kv

    async def place(self, session_id: str, url: str, *, org: str = "org_ada") -> None:
        placement = Placement(
            session_id=session_id, organization_id=org, runner_id=f"runner-{url[-5:]}", url=url
        )
        await self.kv.put(session_id, msgspec.json.encode(placement))

    async def remove(self, session_id: str) -> None:
        await self.kv.delete(session_id)


@asynccontextmanager
async def placement_bucket(nats_url: str) -> AsyncIterator[PlacementBucket]:
    """The bucket created as a runner creates it (latest value per session, on file)."""
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        config = KeyValueConfig(bucket=PLACEMENT_BUCKET, history=1, storage=StorageType.FILE)
        yield PlacementBucket(await js.create_key_value(config))
    finally:
        await connection.drain()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}

"""`Idempotency-Key`, end to end: a service records the key with what it creates.

The gateway replays a kept answer while it has one, but it frees the key when an answer is
a 5xx, and a crashed service's effect may have committed anyway. So each create route also
records `(organization, key)` in its own database, in the transaction that creates the
resource: a retry finds the resource (or the sealed first answer) instead of creating
another, and a request that rolled back left no record, so its retry runs afresh.

A kept answer can hold a secret shown once (a new API key), so it is sealed (AES-256-GCM)
with a key derived from the organization and the client's Idempotency-Key: reading the table
without the client's key reveals nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar import Request
from litestar.di import NamedDependency
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, Table, Text, func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_kit.errors import BadRequest, Unprocessable

if TYPE_CHECKING:
    from alembic.operations import Operations

IDEMPOTENCY_HEADER = "idempotency-key"
TABLE = "idempotency_keys"
# As long as the gateway keeps its records: a key older than this starts afresh.
RETENTION = timedelta(hours=24)
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_NONCE_BYTES = 12


class IdempotentRequest(msgspec.Struct, frozen=True):
    """A request's Idempotency-Key and what makes two requests the same (its fingerprint)."""

    key: str
    fingerprint: str

    def _secret(self, organization_id: str) -> bytes:
        return hashlib.sha256(f"seal\0{organization_id}\0{self.key}".encode()).digest()

    def seal(self, organization_id: str, answer: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._secret(organization_id)).encrypt(nonce, answer, None)

    def unseal(self, organization_id: str, sealed: bytes) -> bytes | None:
        nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            return AESGCM(self._secret(organization_id)).decrypt(nonce, ciphertext, None)
        except InvalidTag:
            return None


class Remembered(msgspec.Struct, frozen=True):
    """What the first request with this key created, and its sealed answer if one was kept."""

    resource_id: str
    answer: bytes | None


def idempotency_table(metadata: MetaData) -> Table:
    """The table on a service's MetaData (no schema: the search_path's)."""
    return Table(TABLE, metadata, *_columns())


def _columns() -> list[Any]:
    return [
        Column("organization_id", Text, primary_key=True),
        Column("key", Text, primary_key=True),
        Column("fingerprint", Text, nullable=False),
        Column("resource_id", Text, nullable=False),
        Column("answer", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


def create_idempotency_table(op: Operations) -> None:
    """For a service's migration: `create_idempotency_table(op)`."""
    op.create_table(TABLE, *_columns())
    op.create_index(f"ix_{TABLE}_created_at", TABLE, ["created_at"])


_table = Table(TABLE, MetaData(), *_columns())


async def provide_idempotency(request: Request[Any, Any, Any]) -> IdempotentRequest | None:
    """Litestar dependency `idempotency`: the request's key and fingerprint, or None."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not _VALID_KEY.fullmatch(key):
        raise BadRequest(
            "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            code="invalid_idempotency_key",
        )
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query or ""):
        digest.update(part.encode("latin-1", errors="replace"))
        digest.update(b"\0")
    digest.update(await request.body())
    return IdempotentRequest(key=key, fingerprint=digest.hexdigest())


Idempotency = NamedDependency[IdempotentRequest | None]
"""Annotation of a handler parameter named `idempotency`."""


async def claim(
    session: AsyncSession,
    *,
    organization_id: str,
    request: IdempotentRequest | None,
    resource_id: str,
) -> Remembered | None:
    """Record the key for `resource_id` (None: go on and create it), or what it recorded before.

    A concurrent request with the same key waits here for the first one's transaction: if
    that commits, this one gets the first one's resource; if it rolls back, this one claims.
    Another request under the same key is a 422 `idempotency_key_reused`.
    """
    if request is None:
        return None
    statement = (
        insert(_table)
        .values(
            organization_id=organization_id,
            key=request.key,
            fingerprint=request.fingerprint,
            resource_id=resource_id,
        )
        .on_conflict_do_update(
            index_elements=["organization_id", "key"],
            set_={
                "fingerprint": request.fingerprint,
                "resource_id": resource_id,
                "answer": None,
                "created_at": func.now(),
            },
            where=_table.c.created_at < func.now() - text(f"interval '{_hours()} hours'"),
        )
        .returning(_table.c.key)
    )
    if (await session.execute(statement)).first() is not None:
        return None
    row = (
        await session.execute(
            _table.select().where(
                _table.c.organization_id == organization_id, _table.c.key == request.key
            )
        )
    ).one()
    if row.fingerprint != request.fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was used with another request.",
            code="idempotency_key_reused",
        )
    answer = request.unseal(organization_id, row.answer) if row.answer else None
    return Remembered(resource_id=row.resource_id, answer=answer)


async def keep_answer(
    session: AsyncSession,
    *,
    organization_id: str,
    request: IdempotentRequest | None,
    answer: bytes,
) -> None:
    """Keep the (sealed) answer of a claimed key, for routes whose answer cannot be rebuilt."""
    if request is None:
        return
    await session.execute(
        _table.update()
        .where(_table.c.organization_id == organization_id, _table.c.key == request.key)
        .values(answer=request.seal(organization_id, answer))
    )


def _hours() -> int:
    return int(RETENTION.total_seconds() // 3600)

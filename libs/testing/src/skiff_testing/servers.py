"""Start the wheels' PostgreSQL and NATS for a test run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skiff_embedded import EmbeddedNats, EmbeddedPostgres, free_port


@contextmanager
def started_postgres(root: Path) -> Iterator[str]:
    """A throwaway (fsync off) PostgreSQL; yields its superuser DSN."""
    server = EmbeddedPostgres(
        root / "data", port=free_port(), admin_password=secrets.token_hex(8), durable=False
    )
    server.start()
    try:
        yield server.admin_dsn
    finally:
        server.stop()


@contextmanager
def started_nats(root: Path) -> Iterator[str]:
    """A NATS server with JetStream; yields its URL."""
    server = EmbeddedNats(root / "jetstream", port=free_port())
    server.start()
    try:
        yield server.url
    finally:
        server.stop()

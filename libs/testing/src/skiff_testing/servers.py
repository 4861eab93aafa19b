"""Start the wheels' PostgreSQL and NATS for a test run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skiff_embedded import EmbeddedNats, EmbeddedPostgres, free_port

# Every statement is planned as a cached generic plan, which production reaches from a
# statement's sixth execution on a connection (when PostgreSQL finds it no dearer): a query
# that only works on custom plans fails in every test run, not months into production. One did
# (billing's top-up attempt, tests/topup/test_attempt_arbiter.py).
GENERIC_PLANS = {"plan_cache_mode": "force_generic_plan"}


@contextmanager
def started_postgres(root: Path) -> Iterator[str]:
    """A throwaway (fsync off) PostgreSQL that plans generically; yields its superuser DSN."""
    server = EmbeddedPostgres(
        root / "data",
        port=free_port(),
        admin_password=secrets.token_hex(8),
        durable=False,
        settings=GENERIC_PLANS,
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

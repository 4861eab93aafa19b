"""Telling "the database is unreachable" from every other failure, so it answers 503."""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc as sa_exc

RETRY_AFTER_SECONDS = 5
# Class 08: connection exceptions; 57P01-03: shutting down, crashed, not accepting yet.
_UNREACHABLE_STATES = frozenset({"57P01", "57P02", "57P03"})
_UNREACHABLE_TYPES = (
    ConnectionError,  # refused, reset, aborted
    TimeoutError,  # connecting took too long
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InternalClientError,
    sa_exc.TimeoutError,  # no pooled connection came free
    sa_exc.DisconnectionError,
)


def database_unreachable(error: BaseException) -> bool:
    """True when `error` (or what it wraps) says PostgreSQL cannot be reached right now."""
    seen: BaseException | None = error
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, _UNREACHABLE_TYPES):
            return True
        if isinstance(seen, sa_exc.DBAPIError) and seen.connection_invalidated:
            return True
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(state, str) and (state.startswith("08") or state in _UNREACHABLE_STATES):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False

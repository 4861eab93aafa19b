"""SQL literals for statements sent together in one simple query (one round trip).

The extended protocol sends one statement per round trip; a simple query may carry several
(`BEGIN; INSERT ...`, `INSERT ...; COMMIT`) but no parameters, so values go in as literals.
Quoted by PostgreSQL's own rule for standard strings: a quote is doubled, nothing else is
special. That holds only while the connection has `standard_conforming_strings` on (the
default since PostgreSQL 9.1), which `quotable` checks; text with a NUL is left out too
(PostgreSQL's text cannot hold one: the parameterised statement gets the error to raise).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from skiff_kit.database_setup import quote_literal


def quotable(connection: asyncpg.Connection, *values: str) -> bool:
    """Whether `text` may quote these values as literals on this connection."""
    settings: Any = connection.get_settings()
    return bool(
        settings.standard_conforming_strings == "on" and not any("\x00" in v for v in values)
    )


def text(value: str) -> str:
    """A text literal (only where `quotable` said so)."""
    return quote_literal(value)


def bytea(value: bytes) -> str:
    """A bytea literal in hex form: nothing in it needs quoting."""
    return f"'\\x{value.hex()}'::bytea"

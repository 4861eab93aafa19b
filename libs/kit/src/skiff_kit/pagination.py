"""Cursor pagination (API.md, Lists): `?limit=` (50, max 200), `?cursor=`, `{data, next_cursor}`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import QueryParameter
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

from skiff_kit.errors import ValidationFailed

T = TypeVar("T")
R = TypeVar("R")
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# A query parameter: Litestar enforces (and documents) its bounds only through QueryParameter.
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)]


class Page(msgspec.Struct, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    data: list[T]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    """An opaque cursor that points just past the row with `last_id`."""
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The id a cursor points past; 400 `validation_error` for a cursor we did not make."""
    if cursor is None or cursor == "":
        return None
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if not decoded.isascii() or "_" not in decoded:
        raise bad_cursor()
    return decoded


def bad_cursor() -> ValidationFailed:
    """The 400 for a cursor this list did not make (or whose row it cannot find)."""
    return ValidationFailed(
        "The cursor is not valid.",
        details={"fields": [{"field": "cursor", "message": "not a cursor from this list"}]},
    )


def page_of(
    rows: Sequence[R], *, limit: int, to_item: Callable[[R], T], id_of: Callable[[R], str]
) -> Page[T]:
    """A page from `limit + 1` rows fetched newest first (the extra row says there is more)."""
    more = len(rows) > limit
    shown = rows[:limit]
    next_cursor = encode_cursor(id_of(shown[-1])) if more and shown else None
    return Page(data=[to_item(row) for row in shown], next_cursor=next_cursor)


def newest_first(
    query: Q, id_column: InstrumentedAttribute[str], before_id: str | None, limit: int
) -> Q:
    """`query` ordered by `id_column` newest first (ids sort by creation), from just past the
    cursor's `before_id`, `limit` rows."""
    if before_id is not None:
        query = query.where(id_column < before_id)
    return query.order_by(id_column.desc()).limit(limit)

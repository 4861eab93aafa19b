"""The event catalog: every public event type with its webhook body's schema and an example."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from litestar import get
from litestar.params import QueryParameter
from skiff_contracts.examples import example_body
from skiff_contracts.public import public_event_types, webhook_schema
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor

from skiff_notification.webhooks.schemas import EventTypeOut

_CURSOR_PREFIX = "type_"


@cache
def catalog() -> tuple[EventTypeOut, ...]:
    """Built once from the contracts: the same source as `make contracts`."""
    return tuple(
        EventTypeOut(
            type=name,
            version=cls.event_version,
            description=cls.description or (cls.__doc__ or "").strip(),
            schema=webhook_schema(cls),
            example=example_body(cls),
        )
        for name, cls in public_event_types().items()
    )


@get("/api/v1/event-types", tags=["webhooks"], responses=errors(401))
async def list_event_types(
    principal: CurrentPrincipal,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> Page[EventTypeOut]:
    """Every event type a webhook endpoint can receive, with its JSON Schema and an example."""
    after = decode_cursor(cursor)
    start = after[len(_CURSOR_PREFIX) :] if after and after.startswith(_CURSOR_PREFIX) else ""
    remaining = [item for item in catalog() if item.type > start]
    shown = remaining[:limit]
    more = len(remaining) > limit
    return Page(
        data=shown,
        next_cursor=encode_cursor(_CURSOR_PREFIX + shown[-1].type) if more and shown else None,
    )

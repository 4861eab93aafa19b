"""API key routes: list (masked), create (raw key once), change, revoke, rotate, roll, usage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, Parameter, PathParameter, QueryParameter
from skiff_contracts import new_id
from skiff_kit.db import DbSession
from skiff_kit.errors import Conflict, NotFound
from skiff_kit.idempotency import Idempotency, IdempotentRequest, Remembered, claim, keep_answer
from skiff_kit.internal_token import CurrentPrincipal, Principal
from skiff_kit.openapi_errors import errors
from skiff_kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, page_of

from skiff_identity.apikeys import repository, scopes, service, usage
from skiff_identity.apikeys.models import ApiKey
from skiff_identity.apikeys.schemas import (
    ApiKeyOut,
    ApiKeyUsageOut,
    ApiKeyWithSecret,
    CreateApiKey,
    RotateApiKey,
    UpdateApiKey,
)

KeyId = Annotated[str, PathParameter(max_length=40)]
Days = Annotated[int, QueryParameter(ge=1, le=90)]


def key_out(key: ApiKey, now: datetime | None = None) -> ApiKeyOut:
    """A key as the API shows it: masked (`prefix`, `last4`), never the secret or its hash."""
    return ApiKeyOut(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        last4=key.last4,
        scopes=list(key.scopes),
        status=service.status_of(key, now or datetime.now(UTC)),  # type: ignore[arg-type]
        active=key.active,
        expires_at=key.expires_at,
        rate_limit=key.rate_limit_per_minute,
        grace_until=key.grace_until
        if key.grace_until and key.grace_until > key.updated_at
        else None,
        created_by=key.created_by,
        created_at=key.created_at,
        updated_at=key.updated_at,
        last_rotated_at=key.last_rotated_at,
        revoked_at=key.revoked_at,
    )


def _grace(key: ApiKey) -> datetime | None:
    """The end of a rotation's grace (a roll's ended when made; a revoked key has none)."""
    if key.revoked_at or key.grace_until is None or key.grace_until <= key.updated_at:
        return None
    return key.grace_until


async def _visible(db_session: DbSession, principal: CurrentPrincipal, key_id: str) -> ApiKey:
    scopes.may_read(principal)
    key = await repository.get(db_session, organization_id=principal.organization_id, key_id=key_id)
    if key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    return key


async def _new_secret(
    db_session: DbSession,
    principal: Principal,
    idempotency: IdempotentRequest | None,
    key_id: str,
    grace_hours: int | None,
) -> ApiKeyWithSecret:
    """Rotate (with a grace) or roll (without) a key, at most once per Idempotency-Key."""
    remembered = await claim(
        db_session,
        organization_id=principal.organization_id,
        request=idempotency,
        resource_id=key_id,
    )
    if remembered is not None:
        return await _replayed(db_session, principal, remembered)
    key, raw = await service.rotate(db_session, principal, key_id, grace_hours=grace_hours)
    return await _kept(db_session, principal, idempotency, key, raw)


async def _kept(
    db_session: DbSession,
    principal: Principal,
    idempotency: IdempotentRequest | None,
    key: ApiKey,
    raw: str,
) -> ApiKeyWithSecret:
    """The answer, its secret sealed under the Idempotency-Key for a retry."""
    await keep_answer(
        db_session,
        organization_id=principal.organization_id,
        request=idempotency,
        answer=raw.encode(),
    )
    return ApiKeyWithSecret(key=raw, api_key=key_out(key))


async def _replayed(
    db_session: DbSession, principal: Principal, remembered: Remembered
) -> ApiKeyWithSecret:
    """The secret the first request made, with the key as it is now."""
    key = await _visible(db_session, principal, remembered.resource_id)
    if remembered.answer is None:
        raise Conflict(
            "This Idempotency-Key was used, but its answer is no longer available.",
            code="idempotency_key_used",
        )
    return ApiKeyWithSecret(key=remembered.answer.decode(), api_key=key_out(key))


class ApiKeyController(Controller):
    """Every member reads the organization's keys; members and above create and manage them."""

    path = "/api/v1/api-keys"
    tags = ["api keys"]

    @get("/")
    async def list_keys(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = Parameter(default=None, max_length=200),
    ) -> Page[ApiKeyOut]:
        """The organization's keys, newest first, masked."""
        scopes.may_read(principal)
        rows = await repository.page(
            db_session,
            organization_id=principal.organization_id,
            before_id=decode_cursor(cursor),
            limit=limit + 1,
        )
        now = datetime.now(UTC)
        return page_of(rows, limit=limit, to_item=lambda k: key_out(k, now), id_of=lambda k: k.id)

    @post("/", status_code=201, responses=errors(409))
    async def create_key(
        self,
        data: JSONBody[CreateApiKey],
        principal: CurrentPrincipal,
        db_session: DbSession,
        idempotency: Idempotency,
    ) -> ApiKeyWithSecret:
        """Create a key; the raw `key` is in this answer only, never shown again.

        A retry with the same `Idempotency-Key` answers the same key (and secret) again.
        """
        key_id = new_id("key")
        remembered = await claim(
            db_session,
            organization_id=principal.organization_id,
            request=idempotency,
            resource_id=key_id,
        )
        if remembered is not None:
            return await _replayed(db_session, principal, remembered)
        key, raw = await service.create(db_session, principal, data, key_id=key_id)
        return await _kept(db_session, principal, idempotency, key, raw)

    @get("/{key_id:str}")
    async def get_key(
        self, key_id: KeyId, principal: CurrentPrincipal, db_session: DbSession
    ) -> ApiKeyOut:
        """One key, masked."""
        return key_out(await _visible(db_session, principal, key_id))

    @patch("/{key_id:str}", responses=errors(409))
    async def update_key(
        self,
        key_id: KeyId,
        data: JSONBody[UpdateApiKey],
        principal: CurrentPrincipal,
        db_session: DbSession,
    ) -> ApiKeyOut:
        """Rename it, change its scopes, or (de)activate it."""
        return key_out(await service.update(db_session, principal, key_id, data))

    @delete("/{key_id:str}", status_code=204)
    async def delete_key(
        self, key_id: KeyId, principal: CurrentPrincipal, db_session: DbSession
    ) -> None:
        """Delete a key (soft): unusable at once and hidden from lists."""
        await service.delete(db_session, principal, key_id)

    @post("/{key_id:str}/revoke", status_code=200)
    async def revoke_key(
        self, key_id: KeyId, principal: CurrentPrincipal, db_session: DbSession
    ) -> ApiKeyOut:
        """Revoke a key: unusable at once, everywhere, for good."""
        return key_out(await service.revoke(db_session, principal, key_id))

    @post("/{key_id:str}/rotate", status_code=200, responses=errors(409))
    async def rotate_key(
        self,
        key_id: KeyId,
        principal: CurrentPrincipal,
        db_session: DbSession,
        idempotency: Idempotency,
        data: JSONBody[RotateApiKey | None] = None,
    ) -> ApiKeyWithSecret:
        """A new secret; the old one keeps working for `grace_hours` (24 by default).

        A retry with the same `Idempotency-Key` answers the same new secret, once rotated.
        """
        grace_hours = (data or RotateApiKey()).grace_hours
        return await _new_secret(db_session, principal, idempotency, key_id, grace_hours)

    @post("/{key_id:str}/roll", status_code=200, responses=errors(409))
    async def roll_key(
        self,
        key_id: KeyId,
        principal: CurrentPrincipal,
        db_session: DbSession,
        idempotency: Idempotency,
    ) -> ApiKeyWithSecret:
        """A new secret; the old one stops working now.

        A retry with the same `Idempotency-Key` answers the same new secret, once rolled.
        """
        return await _new_secret(db_session, principal, idempotency, key_id, None)

    @get("/{key_id:str}/usage")
    async def key_usage(
        self,
        key_id: KeyId,
        principal: CurrentPrincipal,
        db_session: DbSession,
        days: Days = 30,
    ) -> ApiKeyUsageOut:
        """Requests made with the key per day (UTC) and status class, for the last `days` days."""
        key = await _visible(db_session, principal, key_id)
        return await usage.usage_of(db_session, key_id=key.id, days=days)

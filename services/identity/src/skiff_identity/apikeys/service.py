"""The rules of API keys; takes a session, never commits; every change is audited and announced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from skiff_contracts import new_id
from skiff_contracts.events.identity import (
    ApiKeyCreated,
    ApiKeyDeleted,
    ApiKeyRevoked,
    ApiKeyRolled,
    ApiKeyRotated,
    ApiKeyState,
    ApiKeyUpdated,
)
from skiff_kit.errors import Conflict, NotFound, ValidationFailed
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.apikeys import repository, scopes
from skiff_identity.apikeys.models import ApiKey
from skiff_identity.apikeys.schemas import CreateApiKey, UpdateApiKey
from skiff_identity.apikeys.secrets import new_secret
from skiff_identity.audit.service import record as audit
from skiff_identity.outbox import OUTBOX


def status_of(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= now:
        return "expired"
    return "active" if key.active else "inactive"


async def create(
    session: AsyncSession, principal: Principal, body: CreateApiKey, *, key_id: str | None = None
) -> tuple[ApiKey, str]:
    """A new key of the caller's organization; returns it with its raw value (shown once)."""
    scopes.may_manage(principal)
    wanted = scopes.normalized(body.scopes if body.scopes is not None else principal.scopes)
    scopes.grantable(principal, wanted)
    now = datetime.now(UTC)
    if body.expires_at is not None and body.expires_at <= now:
        raise ValidationFailed(
            "expires_at must be in the future.",
            details={"fields": [{"field": "expires_at", "message": "must be in the future"}]},
        )
    secret = new_secret()
    key = ApiKey(
        id=key_id or new_id("key"),
        organization_id=principal.organization_id,
        created_by=principal.api_key_id or principal.user_id,
        name=body.name.strip() or body.name,
        prefix=secret.prefix,
        last4=secret.last4,
        secret_hash=secret.secret_hash,
        scopes=wanted,
        active=True,
        expires_at=body.expires_at,
        rate_limit_per_minute=body.rate_limit,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(key)
    await session.flush()
    await _announce(session, principal, key, ApiKeyCreated, now, details={"scopes": wanted})
    return key, secret.raw


async def managed(session: AsyncSession, principal: Principal, key_id: str) -> ApiKey:
    """A key the caller may change, locked; 404 for another organization's (or a deleted) key."""
    key = await repository.for_update(
        session, organization_id=principal.organization_id, key_id=key_id
    )
    if key is None:
        raise NotFound("No such API key.", code="api_key_not_found")
    scopes.may_manage(principal, key_id=key.id, created_by=key.created_by)
    return key


async def update(
    session: AsyncSession, principal: Principal, key_id: str, body: UpdateApiKey
) -> ApiKey:
    """Rename, re-scope, activate or deactivate; a revoked or expired key cannot change."""
    key = await managed(session, principal, key_id)
    state = status_of(key, datetime.now(UTC))
    if state in ("revoked", "expired"):
        raise Conflict(f"This API key is {state}; it cannot be changed.", code=f"api_key_{state}")
    changes: dict[str, object] = {}
    name = body.name if isinstance(body.name, msgspec.UnsetType) else body.name.strip() or body.name
    if not isinstance(name, msgspec.UnsetType) and name != key.name:
        key.name = changes["name"] = name
    if not isinstance(body.scopes, msgspec.UnsetType):
        wanted = scopes.normalized(body.scopes)
        scopes.grantable(principal, wanted)
        if wanted != key.scopes:
            key.scopes = changes["scopes"] = wanted
    if not isinstance(body.active, msgspec.UnsetType) and body.active != key.active:
        key.active = changes["active"] = body.active
    if changes:
        await _announce(session, principal, key, ApiKeyUpdated, datetime.now(UTC), changes)
    return key


async def revoke(session: AsyncSession, principal: Principal, key_id: str) -> ApiKey:
    """Unusable at once and for good; revoking a revoked key changes nothing."""
    key = await managed(session, principal, key_id)
    if key.revoked_at is None:
        now = datetime.now(UTC)
        key.revoked_at = now
        await _announce(session, principal, key, ApiKeyRevoked, now)
    return key


async def delete(session: AsyncSession, principal: Principal, key_id: str) -> None:
    """Soft delete: unusable, hidden from lists, its rows and audit trail kept."""
    key = await managed(session, principal, key_id)
    now = datetime.now(UTC)
    key.deleted_at = now
    await _announce(session, principal, key, ApiKeyDeleted, now)


async def rotate(
    session: AsyncSession, principal: Principal, key_id: str, *, grace_hours: int | None
) -> tuple[ApiKey, str]:
    """A new secret; the old one works for `grace_hours` (never past the key's expiry).

    `grace_hours=None` is a roll: the old secret dies now.
    """
    key = await managed(session, principal, key_id)
    now = datetime.now(UTC)
    state = status_of(key, now)
    if state in ("revoked", "expired"):
        raise Conflict(f"This API key is {state}; create a new one.", code=f"api_key_{state}")
    grace_until = now + timedelta(hours=grace_hours or 0)
    if key.expires_at is not None:
        grace_until = min(grace_until, key.expires_at)
    secret = new_secret()
    # A roll keeps the old hash with a grace that is already over, so the gateway can tell
    # its holder "rotated" rather than "unknown key".
    key.grace_secret_hash, key.grace_until = key.secret_hash, grace_until
    key.secret_hash, key.prefix, key.last4 = secret.secret_hash, secret.prefix, secret.last4
    key.last_rotated_at = now
    event = ApiKeyRolled if grace_hours is None else ApiKeyRotated
    await _announce(session, principal, key, event, now, {"grace_until": grace_until.isoformat()})
    return key, secret.raw


def state_of(key: ApiKey, event: type[ApiKeyState]) -> ApiKeyState:
    """The key's whole state as the gateway needs it (never the raw secret)."""
    return event(
        key_id=key.id,
        organization_id=key.organization_id,
        created_by=key.created_by,
        name=key.name,
        prefix=key.prefix,
        last4=key.last4,
        secret_hash=key.secret_hash,
        scopes=list(key.scopes),
        active=key.active,
        revoked=key.revoked_at is not None,
        deleted=key.deleted_at is not None,
        expires_at=key.expires_at,
        rate_limit_per_minute=key.rate_limit_per_minute,
        grace_secret_hash=key.grace_secret_hash,
        grace_until=key.grace_until,
        version=key.version,
        changed_at=key.updated_at,
    )


async def _announce(
    session: AsyncSession,
    principal: Principal,
    key: ApiKey,
    event: type[ApiKeyState],
    now: datetime,
    details: dict[str, object] | None = None,
) -> None:
    """Bump the version, audit the change and record the event with the key's whole state."""
    if event is not ApiKeyCreated:
        key.version += 1
    key.updated_at = now
    action = event.event_type.removeprefix("identity.")
    await audit(
        session,
        action=action,
        principal=principal,
        organization_id=key.organization_id,
        target_type="api_key",
        target_id=key.id,
        details={"name": key.name, **(details or {})},
    )
    await OUTBOX.record(
        session, state_of(key, event), subject=key.id, organization_id=key.organization_id
    )

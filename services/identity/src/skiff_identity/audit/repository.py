"""Queries of the audit log."""

from __future__ import annotations

from skiff_kit.pagination import newest_first
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit.models import AuditEntry


async def page(
    session: AsyncSession,
    *,
    organization_id: str,
    actor_id: str | None,
    action: str | None,
    target_type: str | None,
    target_id: str | None,
    before_id: str | None,
    limit: int,
) -> list[AuditEntry]:
    """Newest first, filtered; `action` ending in `.*` matches a family (`apikey.*`)."""
    query = select(AuditEntry).where(AuditEntry.organization_id == organization_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action is not None:
        if action.endswith(".*"):
            query = query.where(AuditEntry.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    return list(await session.scalars(newest_first(query, AuditEntry.id, before_id, limit)))

"""Queries of the audit log."""

from __future__ import annotations

from skiff_kit.pagination import newest_first
from sqlalchemy import ColumnElement, select
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
        query = query.where(*_actions(action))
    if target_type is not None:
        query = query.where(AuditEntry.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditEntry.target_id == target_id)
    return list(await session.scalars(newest_first(query, AuditEntry.id, before_id, limit)))


def _actions(action: str) -> tuple[ColumnElement[bool], ...]:
    """`action`, or with `.*` its family: in byte order ("C"), as `ix_audit_log_action` keeps
    them, where the family `member.*` is the range ['member.', 'member/'): '/' follows '.'."""
    ordered = AuditEntry.action.collate("C")
    if action.endswith(".*"):
        family = action[:-2]
        return (ordered >= f"{family}.", ordered < f"{family}/")
    return (ordered == action,)

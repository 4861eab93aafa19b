"""The audit log route: who did what in the organization (admins and owners)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, get
from litestar.params import Parameter
from skiff_kit.db import DbSession
from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.pagination import DEFAULT_LIMIT, Limit, Page, decode_cursor, page_of

from skiff_identity.audit import repository
from skiff_identity.audit.models import AuditEntry

READERS = frozenset({"owner", "admin"})


class AuditEntryOut(msgspec.Struct):
    id: str
    action: str
    actor_type: str
    actor_id: str | None
    target_type: str | None
    target_id: str | None
    ip: str | None
    request_id: str | None
    details: dict[str, Any]
    created_at: datetime


def _out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        action=entry.action,
        actor_type=entry.actor_type,
        actor_id=entry.actor_id,
        target_type=entry.target_type,
        target_id=entry.target_id,
        ip=entry.ip,
        request_id=entry.request_id,
        details=entry.details,
        created_at=entry.created_at,
    )


class AuditLogController(Controller):
    path = "/api/v1/audit-log"
    tags = ["audit log"]

    @get("/")
    async def list_entries(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        actor: str | None = Parameter(default=None, max_length=80),
        action: str | None = Parameter(default=None, max_length=80),
        entity: str | None = Parameter(default=None, max_length=40),
        entity_id: str | None = Parameter(default=None, max_length=80),
        limit: Limit = DEFAULT_LIMIT,
        cursor: str | None = Parameter(default=None, max_length=200),
    ) -> Page[AuditEntryOut]:
        """Who did what, newest first; filter by `actor`, `action` (or `apikey.*`), `entity`."""
        if principal.role not in READERS:
            raise Forbidden("Only owners and admins can read the audit log.", code="role_required")
        rows = await repository.page(
            db_session,
            organization_id=principal.organization_id,
            actor_id=actor,
            action=action,
            target_type=entity,
            target_id=entity_id,
            before_id=decode_cursor(cursor),
            limit=limit + 1,
        )
        return page_of(rows, limit=limit, to_item=_out, id_of=lambda row: row.id)

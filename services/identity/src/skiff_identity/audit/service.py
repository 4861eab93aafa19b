"""Recording audit entries; called by every domain in the request's own transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from skiff_contracts import new_id
from skiff_kit.internal_token import Principal
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_identity.audit.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    action: str,
    principal: Principal | None,
    organization_id: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    actor_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry (e.g. `apikey.revoked`) in the caller's transaction; never commits.

    Actor, IP and request id come from the gateway-signed principal; `actor_id` names the
    actor when the principal is anonymous (a failed login names the account it tried).
    """
    actor_type = "anonymous"
    if principal is not None and principal.via != "anonymous":
        actor_type = "api_key" if principal.via == "api_key" else "user"
        actor_id = actor_id or principal.api_key_id or principal.user_id
    if organization_id is None and principal is not None and principal.organization_id:
        organization_id = principal.organization_id
    entry = AuditEntry(
        id=new_id("aud"),
        organization_id=organization_id,
        actor_type=actor_type,
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        ip=principal.client_ip if principal else None,
        request_id=principal.request_id if principal else None,
        details=details or {},
        created_at=datetime.now(UTC),
    )
    session.add(entry)
    return entry

"""Owners the directory never heard of: asked of identity, remembered, never failing the caller.

The directory is fed by `identity.*` events, and the bus keeps those 7 days: on an older
installation (or an emptied directory) an organization's owners may be unknown, and then
nobody would be told that its webhook endpoint was disabled or its credits ran out. So when
the directory knows no owner, identity is asked (`rpc.identity.organizations.owners`) and its
answer stored in the directory, in the caller's transaction (a savepoint: a failed write loses
the answer, not the caller's work). The next time the directory knows.

Identity not answering within `timeout` (down, slow, no NATS) is logged and the caller goes on
without owners; for `quiet_seconds` afterwards nobody is asked, so a burst of notices does not
wait a timeout each. An organization identity says has no owner is not asked again for
`negative_seconds`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

import structlog
from nats.aio.client import Client as NATS
from skiff_contracts.rpc.identity import (
    ORGANIZATION_OWNERS_SUBJECT,
    OrganizationOwners,
    OrganizationOwnersReply,
)
from skiff_messaging.errors import RequestFailed
from skiff_messaging.rpc import request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.directory import service as directory
from skiff_notification.directory.service import Person

log = structlog.get_logger("skiff_notification.directory")


class OwnerLookup:
    """An organization's owners: from the directory, else (once) from identity."""

    def __init__(
        self,
        nats: Callable[[], NATS | None],
        *,
        timeout: float,
        quiet_seconds: float = 10.0,
        negative_seconds: float = 300.0,
        max_remembered: int = 10_000,
    ) -> None:
        self.nats = nats
        self.timeout = timeout
        self.quiet_seconds = quiet_seconds
        self.negative_seconds = negative_seconds
        self.max_remembered = max_remembered
        self._ownerless: OrderedDict[str, float] = OrderedDict()
        self._quiet_until = 0.0

    async def __call__(self, session: AsyncSession, organization_id: str) -> list[Person]:
        people = await directory.owners(session, organization_id)
        if people:
            return people
        reply = await self._ask(organization_id)
        if reply is None:
            return []
        if not reply.owners:
            self._remember_ownerless(organization_id)
            return []
        try:
            async with session.begin_nested():
                await directory.remember_owners(session, organization_id, reply.owners, reply.as_of)
        except SQLAlchemyError as error:
            log.warning(
                "owners from identity not stored",
                organization_id=organization_id,
                error=repr(error),
            )
            return [Person(user_id=o.user_id, email=o.email, name=o.name) for o in reply.owners]
        log.info("owners learned from identity", organization_id=organization_id)
        people = await directory.owners(session, organization_id)
        if not people:  # newer membership events say they are owners no more
            self._remember_ownerless(organization_id)
        return people

    async def _ask(self, organization_id: str) -> OrganizationOwnersReply | None:
        now = time.monotonic()
        until = self._ownerless.get(organization_id)
        if until is not None and until > now:
            return None
        nats = self.nats()
        if nats is None or now < self._quiet_until:
            log.warning(
                "owners unknown; identity not asked (no NATS, or it did not answer just now)",
                organization_id=organization_id,
            )
            return None
        try:
            return await request(
                nats,
                ORGANIZATION_OWNERS_SUBJECT,
                OrganizationOwners(organization_id=organization_id),
                OrganizationOwnersReply,
                timeout=self.timeout,
            )
        except RequestFailed as error:
            self._quiet_until = time.monotonic() + self.quiet_seconds
            log.warning(
                "owners unknown; identity did not answer, going on without them",
                organization_id=organization_id,
                error=str(error),
            )
            return None

    def _remember_ownerless(self, organization_id: str) -> None:
        self._ownerless[organization_id] = time.monotonic() + self.negative_seconds
        self._ownerless.move_to_end(organization_id)
        while len(self._ownerless) > self.max_remembered:
            self._ownerless.popitem(last=False)

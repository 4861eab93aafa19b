"""Events published by identity (`identity.>` on the IDENTITY stream)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from skiff_contracts.envelope import EventPayload


class UserRegistered(EventPayload, frozen=True, kw_only=True):
    """A person signed up; their personal organization is created in the same transaction."""

    event_type: ClassVar[str] = "identity.user.registered"
    description: ClassVar[str] = "A user signed up."

    user_id: str
    email: str
    name: str
    organization_id: str
    registered_at: datetime


class OrganizationCreated(EventPayload, frozen=True, kw_only=True):
    """An organization exists; billing opens its credit account."""

    event_type: ClassVar[str] = "identity.organization.created"
    description: ClassVar[str] = "An organization was created; its creator is the owner."

    organization_id: str
    name: str
    slug: str
    owner_user_id: str
    personal: bool
    created_at: datetime


EVENTS = (UserRegistered, OrganizationCreated)

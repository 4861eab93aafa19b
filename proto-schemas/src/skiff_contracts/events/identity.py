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


class EmailVerificationRequested(EventPayload, frozen=True, kw_only=True):
    """A user must confirm their email; notification emails them the link with `token`.

    The raw token rides the internal bus only (never a public webhook); identity stores its hash.
    """

    event_type: ClassVar[str] = "identity.email_verification.requested"
    description: ClassVar[str] = "A user asked for (or signed up and needs) an email verification."

    user_id: str
    email: str
    name: str
    token: str
    expires_at: datetime


class PasswordResetRequested(EventPayload, frozen=True, kw_only=True):
    """A user asked to reset their password; notification emails them the link with `token`."""

    event_type: ClassVar[str] = "identity.password_reset.requested"
    description: ClassVar[str] = "A password reset was requested for an existing account."

    user_id: str
    email: str
    name: str
    token: str
    expires_at: datetime


class UserSessionsRevoked(EventPayload, frozen=True, kw_only=True):
    """Every session of a user issued before `revoked_before` is dead (logout all, reset, lock)."""

    event_type: ClassVar[str] = "identity.session.revoked"
    description: ClassVar[str] = "A user's sessions were ended (logout everywhere, reset, lock)."

    user_id: str
    revoked_before: datetime
    reason: str


class MembershipChanged(EventPayload, frozen=True, kw_only=True):
    """A user's role in an organization is now `role`; `None` once they are no longer a member."""

    event_type: ClassVar[str] = "identity.membership.changed"
    description: ClassVar[str] = "A member was added, changed role, or was removed (role null)."

    organization_id: str
    user_id: str
    role: str | None
    changed_at: datetime


class InviteCreated(EventPayload, frozen=True, kw_only=True):
    """Someone was invited to an organization; notification emails them the link with `token`."""

    event_type: ClassVar[str] = "identity.invite.created"
    description: ClassVar[str] = "An invitation to join an organization was sent."

    invite_id: str
    organization_id: str
    organization_name: str
    email: str
    role: str
    invited_by: str
    token: str
    expires_at: datetime


class ApiKeyState(EventPayload, frozen=True, kw_only=True):
    """The full current state of one API key, as the gateway needs it to authenticate.

    Every API key event carries the whole state (not a diff), so a consumer keeps the one with
    the highest `version` and ignores older ones that arrive late.
    """

    key_id: str
    organization_id: str
    created_by: str | None
    name: str
    prefix: str
    last4: str
    secret_hash: str
    scopes: list[str]
    active: bool
    revoked: bool
    deleted: bool
    expires_at: datetime | None
    rate_limit_per_minute: int | None
    grace_secret_hash: str | None
    grace_until: datetime | None
    version: int
    changed_at: datetime


class ApiKeyCreated(ApiKeyState, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "identity.apikey.created"
    description: ClassVar[str] = "An API key was created (its state, never the raw key)."


class ApiKeyUpdated(ApiKeyState, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "identity.apikey.updated"
    description: ClassVar[str] = "An API key was renamed, re-scoped, activated or deactivated."


class ApiKeyRotated(ApiKeyState, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "identity.apikey.rotated"
    description: ClassVar[str] = "An API key got a new secret; the old one works until grace_until."


class ApiKeyRolled(ApiKeyState, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "identity.apikey.rolled"
    description: ClassVar[str] = "An API key got a new secret; the old one stopped working at once."


class ApiKeyRevoked(ApiKeyState, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "identity.apikey.revoked"
    description: ClassVar[str] = "An API key was revoked: unusable at once, everywhere."


class ApiKeyDeleted(ApiKeyState, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "identity.apikey.deleted"
    description: ClassVar[str] = "An API key was deleted (soft): unusable, hidden from lists."


API_KEY_EVENTS = (
    ApiKeyCreated,
    ApiKeyUpdated,
    ApiKeyRotated,
    ApiKeyRolled,
    ApiKeyRevoked,
    ApiKeyDeleted,
)

EVENTS = (
    UserRegistered,
    OrganizationCreated,
    EmailVerificationRequested,
    PasswordResetRequested,
    UserSessionsRevoked,
    MembershipChanged,
    InviteCreated,
    *API_KEY_EVENTS,
)

"""Identity's web app: auth routes and the outbox relay of identity's events."""

from __future__ import annotations

from datetime import timedelta

from litestar import Litestar
from litestar.di import Provide
from skiff_kit.app import create_app
from skiff_kit.settings import SettingsError
from skiff_messaging.service_bus import ServiceBus

from skiff_identity.apikeys.lookup import KeyLookups
from skiff_identity.apikeys.routes import ApiKeyController
from skiff_identity.apikeys.usage import SUBSCRIPTION as USAGE_SUBSCRIPTION
from skiff_identity.audit.routes import AuditLogController
from skiff_identity.auth.passwords import Passwords
from skiff_identity.auth.routes import AuthController
from skiff_identity.auth.service import Credentials
from skiff_identity.auth.tokens import AccessTokens
from skiff_identity.oauth.providers import oauth_config_from
from skiff_identity.oauth.routes import OAuthController
from skiff_identity.organizations.invite_routes import InvitesController
from skiff_identity.organizations.member_routes import MembersController
from skiff_identity.organizations.owners_lookup import OwnerLookups
from skiff_identity.organizations.routes import OrganizationsController
from skiff_identity.security.policy import policy_from
from skiff_identity.security.routes import AccountSecurityController
from skiff_identity.settings import IdentitySettings


def credentials_from(settings: IdentitySettings) -> Credentials:
    """Password hashing and token signing, built once at start."""
    if not settings.access_token_private_key.strip():
        raise SettingsError({"SKIFF_ACCESS_TOKEN_PRIVATE_KEY": "required (Ed25519 private PEM)"})
    return Credentials(
        passwords=Passwords(
            time_cost=settings.password_time_cost, memory_cost_kib=settings.password_memory_kib
        ),
        access_tokens=AccessTokens(
            settings.access_token_private_key,
            key_id=settings.access_token_key_id,
            ttl_seconds=settings.access_token_ttl_seconds,
        ),
        refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
    )


def create(settings: IdentitySettings) -> Litestar:
    """Identity as one process: HTTP routes plus its place on the bus."""
    credentials = credentials_from(settings)
    security_policy = policy_from(settings)
    oauth = oauth_config_from(settings)
    key_lookups = KeyLookups()
    owner_lookups = OwnerLookups()
    bus = ServiceBus(
        name="identity",
        nats_url=settings.nats_url,
        stream="IDENTITY",
        database_url=settings.database_url,
        schema=settings.database_schema,
        subscriptions=[USAGE_SUBSCRIPTION],
        responders=[key_lookups.responder(), owner_lookups.responder()],
    )
    return create_app(
        settings,
        route_handlers=[
            AuthController,
            AccountSecurityController,
            AuditLogController,
            ApiKeyController,
            OAuthController,
            OrganizationsController,
            MembersController,
            InvitesController,
        ],
        lifespan=[key_lookups.bound, owner_lookups.bound, bus.lifespan],
        readiness_checks={"nats": bus.check_ready},
        dependencies={
            "credentials": Provide(lambda: credentials, sync_to_thread=False, use_cache=True),
            "security_policy": Provide(
                lambda: security_policy, sync_to_thread=False, use_cache=True
            ),
            "oauth": Provide(lambda: oauth, sync_to_thread=False, use_cache=True),
            "invite_ttl": Provide(
                lambda: timedelta(days=settings.invite_ttl_days),
                sync_to_thread=False,
                use_cache=True,
            ),
            "cookie_secure": Provide(
                lambda: settings.session_cookie_secure, sync_to_thread=False, use_cache=True
            ),
        },
    )

"""Auth routes: register, log in, refresh, log out, and who am I."""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import JSONBody
from skiff_kit.db import DbSession
from skiff_kit.errors import NotFound, SkiffError, Unauthorized
from skiff_kit.internal_token import CurrentPrincipal, GatewayCaller

from skiff_identity.auth import repository, service
from skiff_identity.auth.schemas import (
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    MeResponse,
    OrganizationOut,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    SessionOut,
    UserOut,
)
from skiff_identity.auth.service import Credentials, IssuedSession
from skiff_identity.models import Organization, User
from skiff_identity.security import login_guard, verification
from skiff_identity.security.policy import SecurityPolicy
from skiff_identity.security.throttle_http import THROTTLE_HANDLERS

SESSION_COOKIE = "skiff_session"


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        email_verified=user.email_verified_at is not None,
        created_at=user.created_at,
    )


def organization_out(organization: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=organization.id,
        name=organization.name,
        slug=organization.slug,
        personal=organization.personal,
        created_at=organization.created_at,
    )


def _signed_in(user: User, issued: IssuedSession, *, secure: bool) -> Response[LoginResponse]:
    body = LoginResponse(
        user=user_out(user),
        session=SessionOut(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_in=issued.expires_in,
        ),
    )
    cookie = Cookie(
        key=SESSION_COOKIE,
        value=issued.access_token,
        max_age=issued.expires_in,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    return Response(body, status_code=200, cookies=[cookie])


class AuthController(Controller):
    """Register, log in and refresh take anonymous `caller`s, but only through the gateway."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/register", status_code=201)
    async def register(
        self,
        data: JSONBody[RegisterRequest],
        caller: GatewayCaller,
        db_session: DbSession,
        credentials: NamedDependency[Credentials],
        security_policy: NamedDependency[SecurityPolicy],
    ) -> RegisterResponse:
        """Sign up: creates the user and a personal organization they own."""
        user, organization = await service.register(
            db_session, data, passwords=credentials.passwords
        )
        await verification.request_verification(
            db_session, user, ttl=security_policy.verification_ttl
        )
        return RegisterResponse(user=user_out(user), organization=organization_out(organization))

    @post("/login", exception_handlers=THROTTLE_HANDLERS)
    async def login(
        self,
        data: JSONBody[LoginRequest],
        caller: GatewayCaller,
        db_session: DbSession,
        credentials: NamedDependency[Credentials],
        cookie_secure: NamedDependency[bool],
        security_policy: NamedDependency[SecurityPolicy],
    ) -> Response[LoginResponse]:
        """Sign in with email and password; also sets the `skiff_session` cookie."""
        attempt = await login_guard.begin(
            db_session, security_policy, email=data.email, caller=caller
        )
        await db_session.commit()  # the attempt counts although the request may fail
        try:
            user, issued = await service.login(db_session, data, credentials=credentials)
        except SkiffError as error:
            await db_session.rollback()
            await login_guard.failed(db_session, security_policy, attempt, error, caller=caller)
            await db_session.commit()  # keep the failure on record although the request fails
            raise
        await login_guard.succeeded(db_session, attempt, user, caller=caller)
        return _signed_in(user, issued, secure=cookie_secure)

    @post("/refresh")
    async def refresh(
        self,
        data: JSONBody[RefreshRequest],
        caller: GatewayCaller,
        db_session: DbSession,
        credentials: NamedDependency[Credentials],
        cookie_secure: NamedDependency[bool],
    ) -> Response[LoginResponse]:
        """Trade a refresh token for a new pair; a reused token revokes its whole family."""
        result = await service.refresh(db_session, data.refresh_token, credentials=credentials)
        if result is None:
            await db_session.commit()  # keep the family revoked although the request fails
            raise Unauthorized(
                "This refresh token was already used; every session of its family is ended.",
                code="refresh_token_reused",
            )
        user, issued = result
        return _signed_in(user, issued, secure=cookie_secure)

    @post("/logout", status_code=200)
    async def logout(
        self, data: JSONBody[LogoutRequest], principal: CurrentPrincipal, db_session: DbSession
    ) -> Response[dict[str, bool]]:
        """End this session (send its refresh token) or every session (`all_devices`)."""
        if principal.user_id is None:
            raise Unauthorized("Only a signed-in user can log out.", code="user_required")
        await service.logout(
            db_session,
            user_id=principal.user_id,
            refresh_token=data.refresh_token,
            all_devices=data.all_devices,
        )
        response = Response({"logged_out": True}, status_code=200)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @get("/me")
    async def me(self, principal: CurrentPrincipal, db_session: DbSession) -> MeResponse:
        """The caller: user, organization, role, scopes and how they signed in."""
        organization = await repository.organization_by_id(db_session, principal.organization_id)
        if organization is None:
            raise NotFound("The organization no longer exists.", code="organization_not_found")
        user = None
        role = principal.role
        if principal.user_id is not None:
            user = await repository.user_by_id(db_session, principal.user_id)
            if user is None:
                raise Unauthorized("The user no longer exists.", code="user_not_found")
            current = await repository.role_of(
                db_session, user_id=user.id, organization_id=organization.id
            )
            if current is None:
                raise Unauthorized(
                    "You are not a member of this organization.", code="not_a_member"
                )
            role = current
        return MeResponse(
            user=user_out(user) if user else None,
            organization=organization_out(organization),
            role=role,
            scopes=list(principal.scopes),
            via="api_key" if principal.via == "api_key" else "session",
        )

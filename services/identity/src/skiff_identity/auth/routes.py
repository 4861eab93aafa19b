"""Auth routes: register, log in, refresh, log out, and who am I."""

from __future__ import annotations

from typing import Any, cast

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from skiff_kit.db import DbSession
from skiff_kit.error_handlers import error_response
from skiff_kit.errors import NotFound, SkiffError, Unauthorized, ValidationFailed
from skiff_kit.internal_token import CurrentPrincipal, GatewayCaller
from skiff_kit.openapi_errors import errors

from skiff_identity.auth import repository, service
from skiff_identity.auth.cookies import (
    RefreshCookie,
    cleared_cookies,
    refresh_cookie,
    session_cookie,
)
from skiff_identity.auth.schemas import (
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    MeResponse,
    OrganizationSummary,
    RefreshRequest,
    RegisterRequest,
    RegisterResponse,
    TokensOut,
    UserOut,
)
from skiff_identity.auth.service import Credentials, IssuedSession
from skiff_identity.models import Organization, User
from skiff_identity.security import login_guard, verification
from skiff_identity.security.policy import SecurityPolicy


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        email_verified=user.email_verified_at is not None,
        created_at=user.created_at,
    )


def organization_out(organization: Organization) -> OrganizationSummary:
    return OrganizationSummary(
        id=organization.id,
        name=organization.name,
        slug=organization.slug,
        personal=organization.personal,
        created_at=organization.created_at,
    )


def _signed_in(
    user: User, issued: IssuedSession, *, secure: bool, refresh_max_age: int | None = None
) -> Response[LoginResponse]:
    """The new session in the body and as `skiff_session`; also as `skiff_refresh` when
    `refresh_max_age` is given (a browser that keeps its refresh token in the cookie)."""
    body = LoginResponse(
        user=user_out(user),
        session=TokensOut(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_in=issued.expires_in,
        ),
    )
    cookies = [session_cookie(issued, secure=secure)]
    if refresh_max_age is not None:
        cookies.append(refresh_cookie(issued, max_age=refresh_max_age, secure=secure))
    return Response(body, status_code=200, cookies=cookies)


def _refresh_token_required() -> ValidationFailed:
    return ValidationFailed(
        "Validation failed: refresh_token is required (in the body or the skiff_refresh cookie)",
        details={"fields": [{"field": "refresh_token", "message": "is required"}]},
    )


def _refused_clearing_cookies(
    request: Request[Any, Any, Any], refused: SkiffError, *, secure: bool
) -> Response[LoginResponse]:
    """`refused` in the API error shape, with both session cookies cleared."""
    answer = error_response(
        request,
        status_code=refused.status_code,
        message=refused.message,
        code=refused.code,
        details=refused.details,
    )
    answer.cookies = cleared_cookies(secure=secure)
    # An error body, typed as the route's answer so that its documented 200 stays a login.
    return cast("Response[LoginResponse]", answer)


class AuthController(Controller):
    """Register, log in and refresh take anonymous `caller`s, but only through the gateway."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/register", status_code=201, responses=errors(409, 429))
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

    @post("/login", status_code=200, responses=errors(401, 429))
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

    @post("/refresh", status_code=200, responses=errors(401))
    async def refresh(
        self,
        request: Request[Any, Any, Any],
        caller: GatewayCaller,
        db_session: DbSession,
        credentials: NamedDependency[Credentials],
        cookie_secure: NamedDependency[bool],
        data: JSONBody[RefreshRequest | None] = None,
        cookie_token: RefreshCookie = None,
    ) -> Response[LoginResponse]:
        """Trade a refresh token (body, else `skiff_refresh` cookie) for a new pair.

        A reused token revokes its whole family. A request that came with the cookie gets the
        rotated token in it too; if its token is refused, both cookies are cleared (a browser
        would otherwise keep presenting a dead token).
        """
        token = (data.refresh_token if data else None) or cookie_token
        if not token:
            raise _refresh_token_required()
        try:
            result = await service.refresh(db_session, token, credentials=credentials)
            if result is None:
                await db_session.commit()  # keep the family revoked although the request fails
                raise Unauthorized(
                    "This refresh token was already used; every session of its family is ended.",
                    code="refresh_token_reused",
                )
        except Unauthorized as refused:
            if token != cookie_token:
                raise
            return _refused_clearing_cookies(request, refused, secure=cookie_secure)
        user, issued = result
        # A browser holding the cookie gets the rotated token there too, or its next
        # refresh would present the spent one and end the whole family.
        max_age = int(credentials.refresh_ttl.total_seconds()) if cookie_token else None
        return _signed_in(user, issued, secure=cookie_secure, refresh_max_age=max_age)

    @post("/logout", status_code=200)
    async def logout(
        self,
        principal: CurrentPrincipal,
        db_session: DbSession,
        cookie_secure: NamedDependency[bool],
        data: JSONBody[LogoutRequest | None] = None,
        cookie_token: RefreshCookie = None,
    ) -> Response[dict[str, bool]]:
        """End this session (its refresh token from the body or cookie) or all (`all_devices`)."""
        if principal.user_id is None:
            raise Unauthorized("Only a signed-in user can log out.", code="user_required")
        body = data or LogoutRequest()
        await service.logout(
            db_session,
            user_id=principal.user_id,
            refresh_token=body.refresh_token or cookie_token,
            all_devices=body.all_devices,
        )
        return Response(
            {"logged_out": True}, status_code=200, cookies=cleared_cookies(secure=cookie_secure)
        )

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

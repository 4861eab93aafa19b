"""OAuth routes: send the browser to GitHub or Google, and sign it in when it comes back."""

from __future__ import annotations

from hmac import compare_digest
from typing import Annotated

from litestar import Controller, get
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import CookieParameter, PathParameter, QueryParameter
from litestar.response import Redirect
from skiff_kit.db import DbSession
from skiff_kit.errors import BadRequest
from skiff_kit.internal_token import GatewayCaller
from skiff_kit.openapi_errors import errors

from skiff_identity.auth.cookies import refresh_cookie, session_cookie
from skiff_identity.auth.service import Credentials
from skiff_identity.oauth import exchange, linking, service
from skiff_identity.oauth.providers import OAuthConfig, Provider

STATE_COOKIE = "skiff_oauth_state"
NO_STORE = {"cache-control": "no-store"}
ProviderPath = Annotated[str, PathParameter(max_length=20)]
QueryText = Annotated[str | None, QueryParameter(max_length=2048)]


def _state_cookie(provider: Provider, value: str, *, max_age: int, secure: bool) -> Cookie:
    # Binds the sign-in to the browser that started it: a callback carrying someone else's
    # state (login CSRF, or linking a victim's provider account to an attacker) is refused.
    return Cookie(
        key=STATE_COOKIE,
        value=value,
        max_age=max_age,
        path=f"/api/v1/auth/oauth/{provider.name}/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )


class OAuthController(Controller):
    """Anonymous routes (the gateway still forwards a signed-in caller, who then links)."""

    path = "/api/v1/auth/oauth"
    tags = ["auth"]

    @get("/{provider:str}/authorize", status_code=302)
    async def authorize(
        self,
        provider: ProviderPath,
        caller: GatewayCaller,
        db_session: DbSession,
        oauth: NamedDependency[OAuthConfig],
        cookie_secure: NamedDependency[bool],
        redirect_to: QueryText = None,
    ) -> Redirect:
        """Start signing in with GitHub or Google: 302 to the provider (state and PKCE)."""
        chosen = oauth.provider(provider)
        started = await service.start(
            db_session, config=oauth, provider=chosen, redirect_to=redirect_to, caller=caller
        )
        max_age = int(oauth.state_ttl.total_seconds())
        cookie = _state_cookie(chosen, started.state, max_age=max_age, secure=cookie_secure)
        return Redirect(started.authorize_url, status_code=302, cookies=[cookie], headers=NO_STORE)

    @get("/{provider:str}/callback", status_code=302, responses=errors(401, 409, 502))
    async def callback(
        self,
        provider: ProviderPath,
        caller: GatewayCaller,
        db_session: DbSession,
        oauth: NamedDependency[OAuthConfig],
        credentials: NamedDependency[Credentials],
        cookie_secure: NamedDependency[bool],
        code: QueryText = None,
        oauth_state: Annotated[str | None, QueryParameter(name="state", max_length=512)] = None,
        state_cookie: Annotated[str | None, CookieParameter(name=STATE_COOKIE)] = None,
        error: Annotated[str | None, QueryParameter(max_length=200)] = None,
        error_description: QueryText = None,
    ) -> Redirect:
        """Finish signing in: sign in or link the account, set the session, 302 back."""
        chosen = oauth.provider(provider)
        if not oauth_state:
            raise service.invalid_state("missing")
        if not compare_digest((state_cookie or "").encode(), oauth_state.encode()):
            raise service.invalid_state("other_browser")
        pending = await service.consume(db_session, provider=chosen, state=oauth_state)
        await db_session.commit()  # single use, even when what follows fails
        if error:
            raise BadRequest(
                f"{chosen.label} did not authorize the sign-in ({error}).",
                code="oauth_access_denied" if error == "access_denied" else "oauth_not_authorized",
                details={"provider_error": error, "description": error_description},
            )
        if not code:
            raise BadRequest(
                f"{chosen.label} sent no authorization code.", code="oauth_code_missing"
            )
        profile = await exchange.fetch_profile(
            chosen,
            code=code,
            code_verifier=pending.code_verifier,
            redirect_uri=oauth.redirect_uri(chosen),
            timeout_seconds=oauth.http_timeout_seconds,
        )
        _, issued = await linking.sign_in(
            db_session,
            profile,
            provider=chosen,
            link_user_id=pending.link_user_id,
            credentials=credentials,
            caller=caller,
        )
        refresh_max_age = int(credentials.refresh_ttl.total_seconds())
        cookies = [
            session_cookie(issued, secure=cookie_secure),
            refresh_cookie(issued, max_age=refresh_max_age, secure=cookie_secure),
            _state_cookie(chosen, "", max_age=0, secure=cookie_secure),
        ]
        return Redirect(pending.redirect_to, status_code=302, cookies=cookies, headers=NO_STORE)

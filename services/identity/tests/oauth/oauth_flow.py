"""A browser walking through OAuth sign-in: authorize, the provider, the callback."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import httpx
from identity_helpers import Identity, set_cookies
from oauth_fake_provider import Dialect, FakeProviders, FakeUser

STATE_COOKIE = "skiff_oauth_state"
PUBLIC_URL = "http://localhost:8080"  # identity's default SKIFF_PUBLIC_URL


def callback_url(provider: str) -> str:
    return f"{PUBLIC_URL}/api/v1/auth/oauth/{provider}/callback"


@dataclass
class Started:
    """What identity's authorize answered: the 302, the provider URL's query, the state cookie."""

    response: httpx.Response
    query: dict[str, str]
    state_cookie: str | None


class OAuthFlow:
    """Plays the browser; identity is reached as the gateway forwards (anonymous by default)."""

    def __init__(self, identity: Identity, providers: FakeProviders) -> None:
        self.identity = identity
        self.providers = providers

    async def authorize(
        self,
        provider: str,
        *,
        redirect_to: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        params = {"redirect_to": redirect_to} if redirect_to is not None else {}
        return await self.identity.http.get(
            f"/api/v1/auth/oauth/{provider}/authorize",
            params=params,
            headers=headers or self.identity.signer.headers(),
            follow_redirects=False,
        )

    async def start(
        self,
        provider: str,
        *,
        redirect_to: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Started:
        """Authorize, asserting the 302 to the provider."""
        response = await self.authorize(provider, redirect_to=redirect_to, headers=headers)
        assert response.status_code == 302, response.text
        query = dict(parse_qsl(urlsplit(response.headers["location"]).query))
        cookie = set_cookies(response).get(STATE_COOKIE)
        return Started(response, query, cookie.value if cookie else None)

    async def consent(self, started: Started) -> dict[str, str]:
        """The browser at the provider's authorize page; the query it is sent back with."""
        async with httpx.AsyncClient() as browser:
            answer = await browser.get(started.response.headers["location"])
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(started.query["redirect_uri"] + "?")
        return dict(parse_qsl(urlsplit(location).query))

    async def callback(
        self,
        provider: str,
        params: dict[str, str],
        *,
        state_cookie: str | None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The browser back at identity, carrying `state_cookie` (None: no cookie at all)."""
        self.identity.http.cookies.clear()
        sent = dict(headers or self.identity.signer.headers())
        if state_cookie is not None:
            sent["cookie"] = f"{STATE_COOKIE}={state_cookie}"
        return await self.identity.http.get(
            f"/api/v1/auth/oauth/{provider}/callback",
            params=params,
            headers=sent,
            follow_redirects=False,
        )

    async def sign_in(
        self,
        provider: Dialect,
        user: FakeUser,
        *,
        redirect_to: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """The whole walk as `user` at the provider; identity's answer to the callback."""
        self.providers.sign_in(provider, user)
        started = await self.start(provider, redirect_to=redirect_to, headers=headers)
        params = await self.consent(started)
        return await self.callback(
            provider, params, state_cookie=started.state_cookie, headers=headers
        )

    def session_of(self, response: httpx.Response) -> tuple[str, str]:
        """(access token, refresh token) a successful callback set as cookies."""
        assert response.status_code == 302, response.text
        cookies = set_cookies(response)
        return cookies["skiff_session"].value, cookies["skiff_refresh"].value

    def user_id_of(self, response: httpx.Response) -> str:
        """The user the callback signed in."""
        user_id: str = self.identity.claims(self.session_of(response)[0])["sub"]
        return user_id

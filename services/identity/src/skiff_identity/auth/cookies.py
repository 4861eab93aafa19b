"""The browser's session cookies: the access token everywhere, the refresh token for auth only.

`skiff_session` carries the access token to every route (the gateway reads it). `skiff_refresh`
carries the refresh token, scoped to `/api/v1/auth` so that refresh and logout (which ends
that session) receive it and nothing else does; `SameSite=Strict` keeps other sites from
spending it.
"""

from __future__ import annotations

from typing import Annotated

from litestar.datastructures import Cookie
from litestar.params import CookieParameter

from skiff_identity.auth.service import IssuedSession

SESSION_COOKIE = "skiff_session"
REFRESH_COOKIE = "skiff_refresh"
REFRESH_COOKIE_PATH = "/api/v1/auth"

RefreshCookie = Annotated[str | None, CookieParameter(name=REFRESH_COOKIE, max_length=512)]


def session_cookie(issued: IssuedSession, *, secure: bool) -> Cookie:
    """`skiff_session`: the access token, for as long as it lives."""
    return Cookie(
        key=SESSION_COOKIE,
        value=issued.access_token,
        max_age=issued.expires_in,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )


def refresh_cookie(issued: IssuedSession, *, max_age: int, secure: bool) -> Cookie:
    """`skiff_refresh`: the refresh token, sent only to the auth routes."""
    return Cookie(
        key=REFRESH_COOKIE,
        value=issued.refresh_token,
        max_age=max_age,
        path=REFRESH_COOKIE_PATH,
        httponly=True,
        secure=secure,
        samesite="strict",
    )


def cleared_cookies(*, secure: bool) -> list[Cookie]:
    """Both cookies expired at once (same name and path as set, or the browser keeps them)."""
    return [
        Cookie(
            key=SESSION_COOKIE,
            value="",
            max_age=0,
            path="/",
            httponly=True,
            secure=secure,
            samesite="lax",
        ),
        Cookie(
            key=REFRESH_COOKIE,
            value="",
            max_age=0,
            path=REFRESH_COOKIE_PATH,
            httponly=True,
            secure=secure,
            samesite="strict",
        ),
    ]

"""A local OAuth 2 provider that speaks GitHub's and Google's protocol, served by uvicorn.

Each provider lives under its own prefix (`/github`, `/google`) with its real paths: the
authorize page (answers at once for the user the test "signed in" there), the token endpoint
(client credentials, redirect_uri and a real S256 check of the PKCE `code_verifier`, with each
provider's way of reporting errors) and the profile endpoints (GitHub `/user` and
`/user/emails`, Google's OpenID userinfo).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import uvicorn
from litestar import Litestar, Request, Response, get, post
from litestar.response import Redirect

Dialect = Literal["github", "google"]
CLIENTS: dict[str, tuple[str, str]] = {
    "github": ("gh-client-id", "gh-client-secret"),
    "google": ("google-client-id.apps.example", "google-client-secret"),
}


@dataclass
class FakeUser:
    """An account at the provider; `email_verified` is what the provider says about the email."""

    id: str
    login: str
    email: str | None
    email_verified: bool = True
    name: str | None = None


@dataclass
class Grant:
    provider: Dialect
    client_id: str
    redirect_uri: str
    code_challenge: str
    user: FakeUser
    used: bool = False


@dataclass
class FakeProviders:
    """The providers' state, shared by the server thread and the test (guarded by `lock`)."""

    base_url: str = ""
    signed_in: dict[str, FakeUser] = field(default_factory=dict)
    deny: bool = False
    token_endpoint_down: bool = False
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, FakeUser] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.signed_in.clear()
            self.codes.clear()
            self.tokens.clear()
            self.token_requests.clear()
            self.deny = self.token_endpoint_down = False

    def sign_in(self, provider: Dialect, user: FakeUser) -> None:
        """`user` is the one signed in at the provider's site (and consents)."""
        self.signed_in[provider] = user

    def mint_code(self, provider: Dialect, *, code_challenge: str, redirect_uri: str) -> str:
        """A code for the signed-in user, bound to `code_challenge`, as consent would issue."""
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = Grant(
                provider,
                CLIENTS[provider][0],
                redirect_uri,
                code_challenge,
                self.signed_in[provider],
            )
        return code

    def settings(self) -> dict[str, Any]:
        """Identity's settings that point both providers here."""
        return {
            "oauth_github_client_id": CLIENTS["github"][0],
            "oauth_github_client_secret": CLIENTS["github"][1],
            "oauth_github_authorize_url": f"{self.base_url}/github/login/oauth/authorize",
            "oauth_github_token_url": f"{self.base_url}/github/login/oauth/access_token",
            "oauth_github_api_url": f"{self.base_url}/github/api",
            "oauth_google_client_id": CLIENTS["google"][0],
            "oauth_google_client_secret": CLIENTS["google"][1],
            "oauth_google_authorize_url": f"{self.base_url}/google/o/oauth2/v2/auth",
            "oauth_google_token_url": f"{self.base_url}/google/token",
            "oauth_google_userinfo_url": f"{self.base_url}/google/v1/userinfo",
        }


def s256(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _client_credentials(request: Request[Any, Any, Any], form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _token_error(provider: Dialect, error: str) -> Response[Any]:
    # GitHub reports token errors with a 200 and an `error` member; Google with a 4xx.
    names = {
        "invalid_grant": "bad_verification_code",
        "invalid_client": "incorrect_client_credentials",
    }
    if provider == "github":
        return Response({"error": names.get(error, error)}, status_code=200)
    return Response({"error": error}, status_code=401 if error == "invalid_client" else 400)


def build_app(fake: FakeProviders) -> Litestar:
    """The fake providers' ASGI app."""

    def authorize(provider: Dialect, request: Request[Any, Any, Any]) -> Response[Any]:
        query = request.query_params
        client_id, redirect_uri = query.get("client_id"), query.get("redirect_uri") or ""
        if client_id != CLIENTS[provider][0] or query.get("response_type") != "code":
            return Response({"error": "invalid_request"}, status_code=400)
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return Response({"error": "invalid_request"}, status_code=400)
        state = query.get("state", "")
        if fake.deny:
            return Redirect(redirect_uri, query_params={"error": "access_denied", "state": state})
        code = fake.mint_code(
            provider, code_challenge=query["code_challenge"], redirect_uri=redirect_uri
        )
        return Redirect(redirect_uri, query_params={"code": code, "state": state})

    async def token(provider: Dialect, request: Request[Any, Any, Any]) -> Response[Any]:
        form = {key: str(value) for key, value in (await request.form()).items()}
        with fake.lock:
            fake.token_requests.append(form)
        if fake.token_endpoint_down:
            return Response("<html>502 Bad Gateway</html>", status_code=502, media_type="text/html")
        if _client_credentials(request, form) != CLIENTS[provider]:
            return _token_error(provider, "invalid_client")
        with fake.lock:
            grant = fake.codes.get(form.get("code", ""))
            if grant is None or grant.used or grant.provider != provider:
                return _token_error(provider, "invalid_grant")
            grant.used = True
        if form.get("grant_type") != "authorization_code":
            return _token_error(provider, "unsupported_grant_type")
        if form.get("redirect_uri") != grant.redirect_uri:
            return _token_error(provider, "redirect_uri_mismatch")
        if s256(form.get("code_verifier", "")) != grant.code_challenge:
            return _token_error(provider, "invalid_grant")
        access_token = f"{provider}-token-{secrets.token_hex(8)}"
        with fake.lock:
            fake.tokens[access_token] = grant.user
        body: dict[str, Any] = {"access_token": access_token, "token_type": "bearer"}
        if provider == "google":
            body.update(token_type="Bearer", expires_in=3599, scope="openid email profile")
        return Response(body, status_code=200)

    def bearer_user(request: Request[Any, Any, Any]) -> FakeUser | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        return fake.tokens.get(value) if scheme.lower() in ("bearer", "token") else None

    @get("/github/login/oauth/authorize", sync_to_thread=False)
    def github_authorize(request: Request[Any, Any, Any]) -> Response[Any]:
        return authorize("github", request)

    @get("/google/o/oauth2/v2/auth", sync_to_thread=False)
    def google_authorize(request: Request[Any, Any, Any]) -> Response[Any]:
        return authorize("google", request)

    @post("/github/login/oauth/access_token", status_code=200)
    async def github_token(request: Request[Any, Any, Any]) -> Response[Any]:
        return await token("github", request)

    @post("/google/token", status_code=200)
    async def google_token(request: Request[Any, Any, Any]) -> Response[Any]:
        return await token("google", request)

    @get("/github/api/user", sync_to_thread=False)
    def github_user(request: Request[Any, Any, Any]) -> Response[Any]:
        user = bearer_user(request)
        if user is None:
            return Response({"message": "Bad credentials"}, status_code=401)
        return Response({"id": int(user.id), "login": user.login, "name": user.name, "email": None})

    @get("/github/api/user/emails", sync_to_thread=False)
    def github_emails(request: Request[Any, Any, Any]) -> Response[Any]:
        user = bearer_user(request)
        if user is None:
            return Response({"message": "Bad credentials"}, status_code=401)
        emails = [{"email": f"{user.login}@users.noreply.github.com", "primary": False}]
        if user.email:
            emails.append({"email": user.email, "primary": True, "verified": user.email_verified})
        return Response([{"verified": True, "visibility": None, **entry} for entry in emails][::-1])

    @get("/google/v1/userinfo", sync_to_thread=False)
    def google_userinfo(request: Request[Any, Any, Any]) -> Response[Any]:
        user = bearer_user(request)
        if user is None:
            return Response({"error": "invalid_token"}, status_code=401)
        claims: dict[str, Any] = {"sub": user.id, "name": user.name}
        if user.email:
            claims.update(email=user.email, email_verified=user.email_verified)
        return Response(claims)

    return Litestar(
        route_handlers=[
            github_authorize,
            google_authorize,
            github_token,
            google_token,
            github_user,
            github_emails,
            google_userinfo,
        ],
        logging_config=None,
    )


class ServedProviders:
    """`FakeProviders` served by uvicorn on a free port in a thread of its own."""

    def __init__(self) -> None:
        self.fake = FakeProviders()
        config = uvicorn.Config(
            build_app(self.fake), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-oauth", daemon=True)

    def start(self) -> FakeProviders:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake OAuth provider did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.fake.base_url = f"http://127.0.0.1:{port}"
        return self.fake

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

"""The gateway: the only door. Authenticates, signs the internal token and forwards."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import msgspec
from litestar import Litestar, asgi
from litestar.types import Receive, Scope, Send
from skiff_kit.app import create_app
from skiff_kit.errors import NotFound
from skiff_kit.internal_token import INTERNAL_TOKEN_HEADER, InternalTokenSigner
from skiff_kit.request_context import REQUEST_ID_HEADER
from skiff_kit.settings import SettingsError
from skiff_kit.telemetry import inject_trace_headers

from skiff_gateway.authentication import Authenticator
from skiff_gateway.proxy import client_host, forward, public_path
from skiff_gateway.routing import owner_of
from skiff_gateway.settings import GatewaySettings


class Door:
    """What every public request goes through, in order: route, authenticate, sign, forward."""

    def __init__(self, settings: GatewaySettings) -> None:
        if not settings.internal_private_key.strip():
            raise SettingsError({"SKIFF_INTERNAL_PRIVATE_KEY": "required (Ed25519 private PEM)"})
        self.upstreams: dict[str, str] = {
            name: url.rstrip("/") for name, url in json.loads(settings.upstreams).items()
        }
        self.authenticator = Authenticator.from_json(settings.access_token_public_keys)
        self.signer = InternalTokenSigner(settings.internal_private_key, settings.internal_key_id)
        self.timeout = httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
        )
        self.client: httpx.AsyncClient | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        limits = httpx.Limits(max_connections=500, max_keepalive_connections=100)
        async with httpx.AsyncClient(timeout=self.timeout, limits=limits) as client:
            self.client = client
            yield
            self.client = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = public_path(scope)
        service = owner_of(path)
        base_url = self.upstreams.get(service) if service else None
        if service is None or base_url is None:
            raise NotFound(f"No route for {path}.", code="route_not_found")
        request_id = str(scope["state"].get("request_id", ""))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        caller = self.authenticator.authenticate(headers, path=path, request_id=request_id)
        principal = msgspec.structs.replace(caller.principal, client_ip=client_host(scope))
        extra = inject_trace_headers(
            {
                INTERNAL_TOKEN_HEADER: self.signer.sign(principal),
                REQUEST_ID_HEADER: request_id,
            }
        )
        assert self.client is not None, "the gateway's lifespan has not started"
        await forward(
            self.client,
            scope,
            receive,
            send,
            url=base_url + path,
            service=service,
            extra_headers=extra,
        )


def create(settings: GatewaySettings) -> Litestar:
    """The gateway as one process: health plus the proxy of /api/v1/* and /webhooks/*."""
    door = Door(settings)

    @asgi("/api/v1", is_mount=True, copy_scope=True)
    async def api(scope: Scope, receive: Receive, send: Send) -> None:
        """Every public API route, forwarded to the service that owns it."""
        await door(scope, receive, send)

    @asgi("/webhooks", is_mount=True, copy_scope=True)
    async def webhooks(scope: Scope, receive: Receive, send: Send) -> None:
        """Inbound webhooks of payment providers and triggers."""
        await door(scope, receive, send)

    return create_app(settings, route_handlers=[api, webhooks], lifespan=[door.lifespan])

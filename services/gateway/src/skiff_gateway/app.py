"""The gateway: the only door. Authenticates, signs the internal token and forwards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import msgspec
from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import Receive, Scope, Send
from nats.aio.client import Client as NATS
from skiff_kit.app import create_app
from skiff_kit.errors import NotFound, Unauthorized
from skiff_kit.internal_token import INTERNAL_TOKEN_HEADER
from skiff_kit.request_context import REQUEST_ID_HEADER, RequestContextMiddleware
from skiff_kit.settings import SettingsError
from skiff_kit.telemetry import inject_trace_headers

from skiff_gateway.authentication import Authenticated, Authenticator
from skiff_gateway.client_address import ClientAddress
from skiff_gateway.cors import Cors, parse_origins
from skiff_gateway.directory.lookup import KeyLookup
from skiff_gateway.directory.runtime import Directory
from skiff_gateway.directory.usage import UsageCounting, count_usage
from skiff_gateway.front import FrontDoor, enforce
from skiff_gateway.idempotency import IDEMPOTENCY_HEADER, Forwarder, idempotency_from
from skiff_gateway.own_routes import OWN_PATHS, own_routes
from skiff_gateway.placement.paths import placed_session
from skiff_gateway.placement.runtime import Placements
from skiff_gateway.proxy import PayloadTooLarge, forward, public_path
from skiff_gateway.ratelimit import rate_limits_from
from skiff_gateway.routing import owner_of
from skiff_gateway.settings import GatewaySettings
from skiff_gateway.signing import FastSigner
from skiff_gateway.upstream import Upstream, UpstreamPool, upstreams_from
from skiff_gateway.websocket_proxy import forward_websocket


class Door:
    """What every public request goes through, in order: route, authenticate, limit, sign,
    forward (docs/gateway.md)."""

    def __init__(self, settings: GatewaySettings) -> None:
        if not settings.internal_private_key.strip():
            raise SettingsError({"SKIFF_INTERNAL_PRIVATE_KEY": "required (Ed25519 private PEM)"})
        self.upstreams: dict[str, Upstream] = upstreams_from(settings.upstreams)
        self.client_address = ClientAddress.from_setting(settings.trusted_proxies)
        self.rate_limits = rate_limits_from(settings)
        self.idempotency = idempotency_from(settings)
        self.max_body = settings.max_body_bytes
        self.start_wait = settings.ratelimit_start_wait_seconds
        self.directory = Directory(
            nats_url=settings.nats_url,
            bucket=settings.directory_bucket,
            replica=settings.replica_id or None,
            usage_report_seconds=settings.usage_report_seconds,
            start_timeout_seconds=settings.directory_start_timeout_seconds,
        )
        self.authenticator = Authenticator.from_json(
            settings.access_token_public_keys, self.directory.view
        )
        self.lookups = KeyLookup(
            self.directory.view,
            lambda: self.directory.nats,
            per_second=settings.key_lookup_per_second,
            negative_seconds=settings.key_lookup_negative_seconds,
            timeout=settings.key_lookup_timeout_seconds,
        )
        self.signer = FastSigner(
            settings.internal_private_key,
            settings.internal_key_id,
            ttl_seconds=settings.internal_token_ttl_seconds,
        )
        self.timeout = settings.upstream_timeout_seconds
        self.pool = UpstreamPool(connect_timeout=settings.upstream_connect_timeout_seconds)
        # A session's file routes go to the runner that holds it (placement/).
        self.placements = Placements(
            nats_url=settings.nats_url, connect_timeout=settings.upstream_connect_timeout_seconds
        )

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        store = self.rate_limits.store if self.rate_limits else None
        starts = [self.idempotency.store.start(wait_seconds=self.start_wait)]
        if store is not None:
            starts.append(store.start(wait_seconds=self.start_wait))
        await asyncio.gather(*starts)  # each waits for NATS at most start_wait, side by side
        try:
            yield
        finally:
            self.pool.close()
            await self.idempotency.store.stop()
            if store is not None:
                await store.stop()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = public_path(scope)
        placed = placed_session(path)  # None unless a session's file route
        service = owner_of(path)
        upstream = self.upstreams.get(service) if service else None
        if placed is None and (service is None or upstream is None):
            raise NotFound(f"No route for {path}.", code="route_not_found")
        request_id = str(scope["state"].get("request_id", ""))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        caller = await self._authenticate(headers, path=path, request_id=request_id)
        principal = msgspec.structs.replace(caller.principal, client_ip=self.client_address(scope))
        if principal.api_key_id is not None:  # its answer counts, even one the gateway makes
            count_usage(scope, principal.api_key_id, principal.organization_id)
        limit_headers = await enforce(
            self.rate_limits, scope, principal, path=path, key_limit=caller.rate_limit_per_minute
        )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            raise PayloadTooLarge(details={"max_bytes": self.max_body})
        extra = inject_trace_headers(
            {
                INTERNAL_TOKEN_HEADER: self.signer.sign(principal),
                REQUEST_ID_HEADER: request_id,
            }
        )
        pool = self.pool
        if placed is not None:
            pool, upstream = await self.placements.route(placed, principal.organization_id)
        assert upstream is not None
        forwarder: Forwarder = (
            forward_websocket if scope["type"] == ScopeType.WEBSOCKET else forward
        )
        key = headers.get(IDEMPOTENCY_HEADER)
        if key is not None and self.idempotency.applies(scope, path, principal):
            forwarder = self.idempotency.guarded(forwarder, key, principal)
        await forwarder(
            pool,
            upstream,
            scope,
            receive,
            send,
            path=path,
            extra_headers=extra,
            client_ip=principal.client_ip or "unknown",
            response_headers=limit_headers,
            max_body=self.max_body,
            read_timeout=self.timeout,
        )

    async def _authenticate(
        self, headers: dict[str, str], *, path: str, request_id: str
    ) -> Authenticated:
        """Who calls; a key the view has not heard of yet is looked up once (lookup.py)."""
        try:
            return self.authenticator.authenticate(headers, path=path, request_id=request_id)
        except Unauthorized as refused:
            if refused.code != "invalid_api_key":
                raise
            secret_hash = self.authenticator.presented_key_hash(headers)
            if secret_hash is None or not await self.lookups.find(secret_hash):
                raise
        return self.authenticator.authenticate(headers, path=path, request_id=request_id)


def create(settings: GatewaySettings) -> Litestar:
    """The gateway as one process: the door to /api/v1/* and /webhooks/* (HTTP and WebSocket),
    the merged OpenAPI document, the docs page, deep health and its own probes."""
    door = Door(settings)

    def nats_connections() -> list[NATS]:
        store = door.rate_limits.store if door.rate_limits else None
        candidates = [
            store.nats if store else None,
            door.directory.nats,
            door.idempotency.store.nats,
        ]
        return [connection for connection in candidates if connection is not None]

    upstreams = {name: upstream.base_url for name, upstream in door.upstreams.items()}
    app = create_app(
        settings,
        route_handlers=own_routes(settings, upstreams, nats_connections),
        lifespan=[door.directory.lifespan, door.placements.lifespan, door.lifespan],
        readiness_checks={"directory": door.directory.check_ready},
    )
    # Inside the kit's request-id middleware: proxied paths skip the framework (front.py).
    context = app.asgi_handler
    assert isinstance(context, RequestContextMiddleware)
    front = FrontDoor(
        door,
        context.app,
        own_paths=OWN_PATHS,
        rate_limits=door.rate_limits,
        client_address=door.client_address,
        tracing=settings.otel_exporter != "none",
    )
    # Outside the front, which writes the gateway's own errors: those count as usage too.
    counted = UsageCounting(front, door.directory.usage)
    origins = parse_origins(settings.cors_allowed_origins)
    context.app = (
        Cors(counted, origins=origins, max_age=settings.cors_max_age_seconds)
        if origins
        else counted
    )
    return app

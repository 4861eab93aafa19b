"""The gateway's own public routes: the merged OpenAPI document, the docs page, deep health,
and the pages the links in emails open."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.handlers import HTTPRouteHandler
from nats.aio.client import Client as NATS

from skiff_gateway import deep_health
from skiff_gateway.deep_health import DeepHealth
from skiff_gateway.email_pages import email_pages
from skiff_gateway.openapi_merge import MergedOpenApi
from skiff_gateway.settings import GatewaySettings

OPENAPI_PATH = "/api/v1/openapi.json"
DEEP_HEALTH_PATH = "/api/v1/health/deep"
DOCS_PATH = "/api/docs"
OWN_PATHS = frozenset({OPENAPI_PATH, DEEP_HEALTH_PATH})

_DOCS_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Skiff API</title>
  </head>
  <body>
    <script id="api-reference" data-url="{document}"></script>
    <script src="{script}"></script>
  </body>
</html>
"""


def own_routes(
    settings: GatewaySettings,
    upstreams: dict[str, str],
    nats_connections: Callable[[], list[NATS]],
) -> Sequence[HTTPRouteHandler]:
    """The route handlers, bound to this gateway's upstreams and NATS connections."""
    optional = {name.strip() for name in settings.deep_health_optional.split(",") if name.strip()}
    docs_page = _DOCS_PAGE.format(
        document=html.escape(OPENAPI_PATH), script=html.escape(settings.docs_script_url)
    )
    apps: list[Litestar] = []
    catalog = MergedOpenApi(
        upstreams,
        lambda: apps[0].openapi_schema.to_schema(),
        version=settings.version,
        ttl_seconds=settings.openapi_cache_seconds,
        retry_seconds=settings.openapi_retry_seconds,
    )

    @get(OPENAPI_PATH, media_type=MediaType.JSON, include_in_schema=False)
    async def openapi(request: Request[Any, Any, Any]) -> Response[bytes]:
        """The OpenAPI 3.1 document of the whole API (every service, merged)."""
        if not apps:
            apps.append(request.app)
        return Response(await catalog.document(), media_type=MediaType.JSON)

    @get(DOCS_PATH, media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
    def docs() -> str:
        """The interactive API reference, reading the merged document."""
        return docs_page

    @get(DEEP_HEALTH_PATH, tags=["health"])
    async def health_deep() -> Response[DeepHealth]:
        """Every service, PostgreSQL and NATS with latencies; 503 when a critical one is down."""
        report = await deep_health.check(upstreams, nats_connections, optional=optional)
        return Response(report, status_code=503 if report.status == "down" else 200)

    return [openapi, docs, health_deep, *email_pages()]

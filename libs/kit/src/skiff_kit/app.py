"""The web app factory every service uses: logging, tracing, errors, health, db, principal."""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from litestar import Litestar, Router
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute
from litestar.types import ControllerRouterHandler
from litestar.utils.helpers import unwrap_partial

from skiff_kit.db import check_database, create_engine, create_session_factory, provide_db_session
from skiff_kit.error_handlers import EXCEPTION_HANDLERS
from skiff_kit.health import HEALTH_ROUTES, ReadinessCheck
from skiff_kit.idempotency import provide_idempotency
from skiff_kit.internal_token import InternalTokenVerifier, provide_caller, provide_principal
from skiff_kit.json_guard import JsonGuard
from skiff_kit.logging import configure_logging, get_logger
from skiff_kit.openapi_errors import document_errors
from skiff_kit.request_context import RequestContextMiddleware
from skiff_kit.settings import ServiceSettings
from skiff_kit.telemetry import configure_tracing, opentelemetry_plugin

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]
OPENAPI_PATH = "/openapi.json"

_log = get_logger("skiff.app")


@asynccontextmanager
async def _database_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Engine and session factory on `app.state` while the app runs, disposed after."""
    settings: ServiceSettings = app.state.settings
    if not settings.database_url:
        yield
        return
    engine = create_engine(
        settings.database_url,
        schema=settings.database_schema,
        application_name=settings.service_name,
    )
    app.state.db_engine = engine
    app.state.db_session_factory = create_session_factory(engine)

    async def database() -> None:
        await check_database(engine)

    app.state.readiness_checks.setdefault("database", database)
    try:
        yield
    finally:
        app.state.readiness_checks.pop("database", None)
        app.state.db_session_factory = None
        app.state.db_engine = None
        await engine.dispose()


def _schema_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Litestar's schema router answers other paths under it with an HTML page: 404 them here."""
    if connection.scope["path"].rstrip("/") != OPENAPI_PATH:
        raise NotFoundException()


@asynccontextmanager
async def _announce(app: Litestar) -> AsyncIterator[None]:
    settings: ServiceSettings = app.state.settings
    _log.info("service_started", version=settings.version, git_revision=settings.git_revision)
    try:
        yield
    finally:
        _log.info("service_stopping")


def create_app(
    settings: ServiceSettings,
    *,
    route_handlers: Sequence[ControllerRouterHandler] = (),
    lifespan: Sequence[Lifespan] = (),
    readiness_checks: Mapping[str, ReadinessCheck] = {},
    dependencies: Mapping[str, Provide] = {},
    openapi_title: str | None = None,
) -> Litestar:
    """A Litestar app with the kit's wiring around this service's `route_handlers`.

    Handlers may declare `db_session: DbSession` (one transaction per request, committed
    when the handler returns), `principal: CurrentPrincipal` (verified internal token, else
    401), `idempotency: Idempotency` (the Idempotency-Key, see `skiff_kit.idempotency`) and
    `settings: NamedDependency[MySettings]`. `lifespan` context managers run after
    the database is up, in order; they may call `register_readiness_check(app, ...)`.
    """
    configure_logging(
        service=settings.service_name, log_format=settings.log_format, level=settings.log_level
    )
    configure_tracing(
        service=settings.service_name,
        version=settings.version,
        exporter=settings.otel_exporter,
        endpoint=settings.otel_endpoint,
    )
    state = State(
        {
            "settings": settings,
            "started_at": time.monotonic(),
            "readiness_checks": dict(readiness_checks),
            "internal_token_verifier": InternalTokenVerifier.from_settings(settings),
            "db_engine": None,
            "db_session_factory": None,
        }
    )
    kit_dependencies: dict[str, Provide] = {
        "db_session": Provide(provide_db_session),
        "principal": Provide(provide_principal, sync_to_thread=False),
        "caller": Provide(provide_caller, sync_to_thread=False),
        "idempotency": Provide(provide_idempotency),
        "settings": Provide(lambda: settings, sync_to_thread=False, use_cache=True),
    }
    app = Litestar(
        route_handlers=[*HEALTH_ROUTES, *route_handlers],
        lifespan=[_announce, _database_lifespan, *lifespan],
        dependencies={**kit_dependencies, **dependencies},
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[opentelemetry_plugin()],
        openapi_config=OpenAPIConfig(
            title=openapi_title or f"Skiff {settings.service_name}",
            version=settings.version,
            # The schema at /openapi.json exactly; no documentation pages on a service.
            openapi_router=Router(
                OPENAPI_PATH, route_handlers=[], include_in_schema=False, guards=[_schema_only]
            ),
            render_plugins=[JsonRenderPlugin(path="/")],
        ),
        state=state,
        debug=False,
        pdb_on_exception=False,
        logging_config=None,
    )
    document_from_docstrings(app)
    document_errors(app)
    # Outside the router and its exception handling, so 404s and 405s get a request id too;
    # hostile JSON is refused before any decoder sees it (json_guard.py).
    app.asgi_handler = RequestContextMiddleware(JsonGuard(app.asgi_handler))
    return app


def document_from_docstrings(app: Litestar) -> None:
    """Give each operation the docstring of its handler: the first paragraph becomes the
    OpenAPI `summary`, the rest the `description`. A `summary=`/`description=` set on the
    decorator wins. (Litestar alone would title-case the function's name.)
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            summary, description = docstring_parts(inspect.getdoc(unwrap_partial(handler.fn)))
            if handler.summary is None:
                handler.summary = summary
            if handler.description is None:
                handler.description = description


def docstring_parts(docstring: str | None) -> tuple[str | None, str | None]:
    """(first paragraph on one line, the rest) of a docstring; None for what is missing."""
    if not docstring or not docstring.strip():
        return None, None
    first, _, rest = docstring.strip().partition("\n\n")
    summary = " ".join(line.strip() for line in first.splitlines())
    return summary, rest.strip() or None


def app_settings(app: Litestar) -> Any:
    """The settings object the app was created with (typed by the caller)."""
    return app.state.settings

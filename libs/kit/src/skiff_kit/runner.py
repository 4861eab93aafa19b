"""The `__main__` of every service: `serve` (default), `migrate`, or print its `openapi`."""

from __future__ import annotations

import argparse
import json
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, NoReturn, TypeVar

import uvicorn
from litestar import Litestar

from skiff_kit.http_limits import HttpLimits
from skiff_kit.http_protocol import protocol_for
from skiff_kit.logging import configure_logging, get_logger
from skiff_kit.settings import ServiceSettings, SettingsError, load_settings
from skiff_kit.unknown_settings import warn_unknown_variables

S = TypeVar("S", bound=ServiceSettings)
GRACEFUL_SHUTDOWN_SECONDS = 20
_BACKLOG = 2048

_log = get_logger("skiff.runner")


def bind_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A listening TCP socket; with `reuse_port`, replicas on one host share the port."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(_BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class _Stopped(BaseException):
    """Raised by the SIGTERM handler uvicorn re-raises after its graceful shutdown."""


def _stopped(signum: int, frame: FrameType | None) -> NoReturn:
    raise _Stopped


def server_config(app: Any, settings: ServiceSettings, **options: Any) -> uvicorn.Config:
    """How uvicorn serves a service: the kit's guarded HTTP protocol, no access log of its
    own, and no proxy headers (`options` add uvicorn settings, e.g. a host and port in tests).

    The protocol (`skiff_kit.http_protocol`) enforces the `SKIFF_HTTP_*` limits and timeouts on
    every service, the gateway's public edge and, as a second line, the services behind it.
    `proxy_headers=False`: uvicorn would otherwise take the client address from
    `X-Forwarded-For` whenever the peer is local, letting any local caller choose its address;
    the gateway decides which proxies to believe (`SKIFF_TRUSTED_PROXIES`).
    """
    defaults: dict[str, Any] = {
        "http": protocol_for(HttpLimits.from_settings(settings)),
        "log_config": None,
        "access_log": False,
        "lifespan": "on",
        "server_header": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }
    return uvicorn.Config(app, **(defaults | options))


def serve(app: Litestar, settings: ServiceSettings) -> None:
    """Serve `app` on `settings.port` (SO_REUSEPORT) and on `settings.private_port` if set."""
    sockets = [bind_socket(settings.host, settings.port, reuse_port=True)]
    if settings.private_port is not None:
        sockets.append(bind_socket(settings.host, settings.private_port, reuse_port=False))
    server = uvicorn.Server(server_config(app, settings))
    addresses = [f"{s.getsockname()[0]}:{s.getsockname()[1]}" for s in sockets]
    _log.info("listening", addresses=addresses, service=settings.service_name)
    signal.signal(signal.SIGTERM, _stopped)
    try:
        server.run(sockets=sockets)  # on uvloop when it is installed
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        for sock in sockets:
            sock.close()
    _log.info("stopped")


def migrate(settings: ServiceSettings, script_location: str | None) -> None:
    """Apply this service's migrations to its schema."""
    if script_location is None:
        raise SystemExit(f"{settings.service_name} has no migrations")
    if not settings.database_url or not settings.database_schema:
        raise SystemExit("migrate needs SKIFF_DATABASE_URL and SKIFF_DATABASE_SCHEMA")
    from skiff_kit.migrations import upgrade  # alembic is only needed here, not to serve

    _log.info("migrating", schema=settings.database_schema)
    upgrade(
        database_url=settings.database_url,
        schema=settings.database_schema,
        script_location=script_location,
    )
    _log.info("migrated", schema=settings.database_schema)


def run_service(
    app_factory: Callable[[S], Litestar],
    settings_cls: type[S],
    *,
    script_location: str | None,
    argv: Sequence[str] | None = None,
) -> None:
    """Parse the command line, read the settings once, name unknown `SKIFF_*` variables, then
    serve, migrate or print OpenAPI."""
    parser = argparse.ArgumentParser(description="Run a Skiff service.")
    parser.add_argument(
        "command", nargs="?", default="serve", choices=("serve", "migrate", "openapi")
    )
    arguments = parser.parse_args(argv)
    try:
        settings = load_settings(settings_cls)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(
        service=settings.service_name, log_format=settings.log_format, level=settings.log_level
    )
    warn_unknown_variables(settings_cls)  # a misspelled setting would silently do nothing
    if arguments.command == "migrate":
        migrate(settings, script_location)
    elif arguments.command == "openapi":
        schema = app_factory(settings).openapi_schema.to_schema()
        sys.stdout.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    else:
        serve(app_factory(settings), settings)

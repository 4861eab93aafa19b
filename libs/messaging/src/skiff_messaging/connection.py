"""Connecting to NATS: retried at start, reconnecting forever with jittered back-off."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from nats.aio.client import Client as NATS
from nats.aio.client import Server

from skiff_messaging.aio import backoff_delay

log = structlog.get_logger("skiff_messaging.connection")


def _reconnect_handler(servers: list[Server], _info: dict[str, Any]) -> tuple[Server | None, float]:
    server = min(servers, key=lambda s: s.reconnects)
    return server, backoff_delay(server.reconnects)


async def connect(url: str, *, name: str, **options: Any) -> NATS:
    """Connect `name` to NATS at `url` (comma-separated for a cluster).

    The first connection is retried until it succeeds (a service may start before NATS; wrap
    the call in `asyncio.timeout` to give up); afterwards the client reconnects forever with
    jittered exponential back-off, buffering publishes meanwhile. Extra keyword arguments go
    to `nats.connect`.
    """

    client = NATS()

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", client=name, error=str(exc) or type(exc).__name__)

    async def on_disconnected() -> None:
        if not client.is_closed:  # a close() we asked for is not worth a warning
            log.warning("nats disconnected", client=name)

    async def on_reconnected() -> None:
        log.info("nats reconnected", client=name)

    settings: dict[str, Any] = {
        "servers": [part.strip() for part in url.split(",") if part.strip()],
        "name": name,
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 1,
        "reconnect_to_server_handler": _reconnect_handler,
        "connect_timeout": 2,
        "ping_interval": 20,
        "max_outstanding_pings": 3,
        "pending_size": 8 * 1024 * 1024,
        "error_cb": on_error,
        "disconnected_cb": on_disconnected,
        "reconnected_cb": on_reconnected,
        **options,
    }
    await client.connect(**settings)
    return client


DRAIN_SECONDS = 5.0


async def drain_then_close(client: NATS, *, within: float = DRAIN_SECONDS) -> None:
    """Drain `client` (handlers finish, publishes flush), closing it if that takes too long.

    nats-py's drain waits for every subscription's queued messages to be taken; one that
    nobody reads any more (a stream whose reader was cancelled) would hold a shutdown for
    the whole drain timeout (30 s by default).
    """
    try:
        async with asyncio.timeout(within):
            await client.drain()
    except TimeoutError:
        log.warning("nats drain took too long; closing", within=within)
    except Exception as exc:  # already closed, or the server went away
        log.debug("nats drain failed; closing", error=repr(exc))
    if not client.is_closed:
        with contextlib.suppress(Exception):
            await client.close()

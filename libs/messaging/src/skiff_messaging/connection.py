"""Connecting to NATS: retried at start, reconnecting forever with jittered back-off."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from nats.aio.client import Client as NATS
from nats.aio.client import Server

from skiff_messaging.aio import backoff_delay
from skiff_messaging.limits import MessageTooLarge, message_size, observe_max_payload

log = structlog.get_logger("skiff_messaging.connection")
_AUTHORIZATION = "authorization violation"


class SkiffClient(NATS):
    """nats-py's client, made unable to lose its connection for good by accident.

    - Every message is measured with its headers before it is sent: one over the server's
      `max_payload` raises `MessageTooLarge` here instead of reaching the server, which would
      close the connection (nats-py compares only the payload).
    - A protocol error the server answers with `-ERR` (after which it closes the connection)
      is handled like a dropped connection: reconnect and resubscribe, as nats-py does for a
      stale connection, instead of closing the client for good.
    """

    closing_on_purpose = False

    def __init__(self) -> None:
        super().__init__()
        # Run after every reconnection: what lived only in the server's memory (LIVE, the
        # rate-limit bucket) is gone after a NATS restart and is provisioned again.
        self.reconnect_hooks: list[Callable[[], Awaitable[None]]] = []
        self.hook_runs: set[asyncio.Task[None]] = set()

    async def publish(
        self,
        subject: str,
        payload: bytes = b"",
        reply: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        size = message_size(payload, headers)
        if size > self.max_payload:
            raise MessageTooLarge(subject, size, self.max_payload)
        await super().publish(subject, payload, reply, headers)

    async def _process_err(self, err_msg: str) -> None:
        if _AUTHORIZATION in err_msg.lower():
            await super()._process_err(err_msg)
            return
        log.warning("nats server error; reconnecting", error=err_msg.strip("' "))
        await self._process_op_err(ConnectionResetError(err_msg))

    async def close(self) -> None:
        self.closing_on_purpose = True
        await super().close()

    async def drain(self) -> None:
        self.closing_on_purpose = True
        await super().drain()


def on_reconnect(client: NATS, hook: Callable[[], Awaitable[None]]) -> None:
    """Run `hook` after each reconnection of `client` (a client made by `connect`)."""
    if isinstance(client, SkiffClient):
        client.reconnect_hooks.append(hook)


_HOOK_ATTEMPTS = 12  # about a minute of back-off: JetStream may still be recovering


async def _run_hooks(client: SkiffClient, name: str) -> None:
    """Each hook, retried with back-off until it succeeds (they are idempotent)."""
    for hook in list(client.reconnect_hooks):
        for attempt in range(_HOOK_ATTEMPTS):
            if client.is_closed:
                return
            try:
                await hook()
                break
            except Exception as exc:
                log.warning("reconnect hook failed", client=name, error=repr(exc))
                await asyncio.sleep(backoff_delay(attempt))


def _exit_for_restart(name: str) -> None:
    """The last resort: a client closed for good cannot get its subscriptions back, so the
    process stops (gracefully, SIGTERM) and its supervisor starts it again."""
    log.error("nats connection closed for good; stopping so the supervisor restarts", client=name)
    os.kill(os.getpid(), signal.SIGTERM)


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

    client = SkiffClient()

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", client=name, error=str(exc) or type(exc).__name__)

    async def on_closed() -> None:
        if not client.closing_on_purpose:
            _exit_for_restart(name)

    async def on_disconnected() -> None:
        if not client.is_closed:  # a close() we asked for is not worth a warning
            log.warning("nats disconnected", client=name)

    async def on_reconnected() -> None:
        log.info("nats reconnected", client=name)
        observe_max_payload(client.max_payload)
        # In the background: nats-py awaits this callback inside its reconnection loop.
        hooks = asyncio.create_task(_run_hooks(client, name), name=f"{name}-reconnect-hooks")
        client.hook_runs.add(hooks)
        hooks.add_done_callback(client.hook_runs.discard)

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
        "closed_cb": on_closed,
        **options,
    }
    await client.connect(**settings)
    observe_max_payload(client.max_payload)
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

"""Notification SIGKILLed mid-delivery: every message is delivered at least once, none lost,
and a message sent twice carries the same `webhook-id` both times."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from nats.js import JetStreamContext
from skiff_embedded import free_port
from skiff_notification.settings import NotificationSettings
from skiff_testing.http_receiver import Receiver, Reply
from webhook_support import Log, OrgOf, publish, started, until

EVENTS = 150


@contextmanager
def notification_process(settings: NotificationSettings) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m skiff_notification` with these settings, killed at the end if still alive."""
    env = {**os.environ, "SKIFF_PORT": str(free_port())}
    for name in (
        "database_url",
        "database_schema",
        "nats_url",
        "internal_public_keys",
        "webhooks_allowed_cidrs",
        "webhooks_allow_http",
        "webhook_lease_seconds",
        "webhook_timeout_seconds",
    ):
        value = getattr(settings, name)
        env[f"SKIFF_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env["SKIFF_LOG_LEVEL"] = "warning"
    process = subprocess.Popen(
        [sys.executable, "-m", "skiff_notification"], env=env, stdout=subprocess.DEVNULL
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


async def test_sigkill_mid_delivery_loses_nothing(
    start_service: Callable[..., Any],
    webhook_settings: Callable[..., NotificationSettings],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    receiver: Receiver,
) -> None:
    receiver.answer = lambda _: Reply(delay=0.2)
    async with start_service() as client:  # the endpoint, made through the API
        org = org_of(client)
        endpoint = await org.endpoint(receiver.url, ["sandbox.session.started"])
    settings = webhook_settings(webhook_lease_seconds=3.0, webhook_timeout_seconds=2.0)
    sent = [await publish(bus_js, started(org.id), org.id) for _ in range(EVENTS)]
    expected = {json.loads(bytes(e.data))["session_id"] for e in sent}

    with notification_process(settings) as first:
        # Every event consumed (so the kill is not also a consumer crash: that has its own
        # tests), then a third of the messages sent.
        await until(lambda: _stored(log, endpoint["id"]), within=60, what="messages stored")
        await receiver.wait_for(EVENTS // 3, within=60)
        first.send_signal(signal.SIGKILL)  # in the middle of sending
        first.wait(10)
    killed_at = len(receiver.received)
    assert killed_at < EVENTS, "the kill came too late to be mid-delivery"

    with notification_process(settings):
        await until(lambda: _every_one(receiver, expected), within=90, what="every event delivered")
        await until(lambda: _all_succeeded(log, endpoint["id"]), within=30, what="all recorded")

    ids_of: defaultdict[str, set[str]] = defaultdict(set)
    for request in receiver.received:
        ids_of[json.loads(request.body)["data"]["session_id"]].add(request.headers["webhook-id"])
    assert set(ids_of) == expected, "no message lost"
    assert all(len(ids) == 1 for ids in ids_of.values()), "a repeat carries the same webhook-id"
    messages = await log.messages(endpoint["id"])
    assert len(messages) == EVENTS


async def _stored(log: Log, endpoint_id: str) -> bool:
    return len(await log.messages(endpoint_id)) == EVENTS


async def _every_one(receiver: Receiver, expected: set[str]) -> bool:
    got = {json.loads(r.body)["data"]["session_id"] for r in receiver.received}
    return got >= expected


async def _all_succeeded(log: Log, endpoint_id: str) -> bool:
    return {m.status for m in await log.messages(endpoint_id)} == {"succeeded"}

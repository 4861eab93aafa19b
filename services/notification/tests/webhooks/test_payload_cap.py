"""A body over the cap is refused where the message is made, with a clear reason, never sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext
from skiff_contracts import new_id
from skiff_contracts.events.sandbox import TaskCompleted
from skiff_testing.http_receiver import Receiver
from webhook_support import Log, OrgOf, publish, started, until


def task_completed(org: str, output: str) -> TaskCompleted:
    return TaskCompleted(
        task_id=new_id("tsk"),
        session_id=new_id("ses"),
        organization_id=org,
        status="succeeded",
        exit_code=0,
        stdout=output,
        stderr="",
        truncated=False,
        duration_ms=12,
        finished_at=datetime.now(UTC),
    )


async def test_an_oversized_body_is_kept_as_failed_with_the_reason_and_never_sent(
    start_service: Callable[..., Any],
    org_of: OrgOf,
    bus_js: JetStreamContext,
    log: Log,
    receiver: Receiver,
) -> None:
    async with start_service(webhook_max_payload_bytes=2048) as client:
        org = org_of(client)
        endpoint = await org.endpoint(receiver.url)
        await publish(bus_js, task_completed(org.id, "x" * 5000), org.id)
        await publish(bus_js, started(org.id), org.id)  # small: sent
        await receiver.wait_for(1)
        await until(lambda: _two(log, endpoint["id"]), what="both messages")
        big = next(
            m
            for m in await log.messages(endpoint["id"])
            if m.event_type == "sandbox.task.completed"
        )
        (attempt,) = await log.attempts(big.id)
        listed = await org.call(
            "GET", f"/api/v1/webhooks/{endpoint['id']}/deliveries?status=failed"
        )
    assert big.status == "failed"
    assert attempt.error == "too_large"
    assert "the limit is 2048 bytes" in attempt.response_excerpt
    assert [r.headers["webhook-id"] for r in receiver.received] != [big.id]
    assert len(receiver.received) == 1
    (shown,) = listed.json()["data"]
    assert shown["attempts"][0]["error"] == "too_large"


async def _two(log: Log, endpoint_id: str) -> bool:
    return len(await log.messages(endpoint_id)) == 2

"""A relay in its own process that SIGKILLs itself after JetStream acked, before the DELETE.

`python relay_process.py <dsn> <nats-url> drain|notify`: `drain` dies inside the claiming
transaction (the drain path), `notify` before deleting rows it published from NOTIFY.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

import structlog
from skiff_messaging import OutboxRelay, connect

SCHEMA, CHANNEL = "svc", "skiff_outbox_svc"


class DyingRelay(OutboxRelay):
    """Crashes at the worst moment: every publish acknowledged, no row deleted yet."""

    mode = "drain"

    async def _await_acks(self, batch: Any) -> None:
        await super()._await_acks(batch)
        if self.mode == "drain":
            os.kill(os.getpid(), signal.SIGKILL)

    async def _forget(self, event_ids: list[str]) -> None:
        if self.mode == "notify":
            os.kill(os.getpid(), signal.SIGKILL)
        await super()._forget(event_ids)


async def main(dsn: str, nats_url: str, mode: str) -> None:
    nc = await connect(nats_url, name="dying-relay")
    relay = DyingRelay(dsn=dsn, schema=SCHEMA, channel=CHANNEL, js=nc.jetstream())
    relay.mode = mode
    task = asyncio.create_task(relay.run())
    while not relay.leading:  # noqa: ASYNC110 - a test script polling a flag
        await asyncio.sleep(0.01)
    print("leading", flush=True)
    await task


if __name__ == "__main__":
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    asyncio.run(main(*sys.argv[1:4]))

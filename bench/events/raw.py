"""The baseline: plain nats-py JetStream, publishing and pull-consuming without Skiff."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from nats.aio.client import Client as NATS
from skiff_messaging import connect
from skiff_messaging.streams import stream_config


class RawPath:
    """`js.publish` to a stream, a durable pull consumer `fetch`ing one by one; bursts."""

    def __init__(self, nats_url: str, payload: bytes) -> None:
        self.nats_url = nats_url
        self.payload = payload
        self.received = asyncio.Event()
        self.received_at = 0.0
        self.connections: list[NATS] = []

    async def start(self) -> None:
        producer = await connect(self.nats_url, name="raw-producer")
        consumer = await connect(self.nats_url, name="raw-consumer")
        self.connections = [producer, consumer]
        self.js = producer.jetstream()
        # The same settings as Skiff's streams (file storage, de-duplication window).
        config = dataclasses.replace(stream_config("IDENTITY"), name="RAW", subjects=["raw.>"])
        await self.js.add_stream(config)
        pull = await consumer.jetstream().pull_subscribe("raw.test", "raw", stream="RAW")
        self.task = asyncio.create_task(self._fetch(pull))

    async def _fetch(self, pull: Any) -> None:
        while True:
            try:
                messages = await pull.fetch(1, timeout=5)
            except TimeoutError:
                continue
            for msg in messages:
                self.received_at = time.perf_counter()
                await msg.ack()
                self.received.set()

    async def round_trip(self) -> float:
        """Seconds from calling `js.publish` to the pull consumer holding the message."""
        self.received.clear()
        sent = time.perf_counter()
        await self.js.publish("raw.test", self.payload)
        await asyncio.wait_for(self.received.wait(), 5)
        return self.received_at - sent

    async def publish_burst(self, count: int) -> float:
        """Seconds to publish `count` messages pipelined (publish_async) and have every ack."""
        start = time.perf_counter()
        futures = [await self.js.publish_async("raw.burst", self.payload) for _ in range(count)]
        await asyncio.gather(*futures)
        return time.perf_counter() - start

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        for connection in self.connections:
            await connection.close()

"""Give each test an empty JetStream: delete every stream (KV buckets are streams too)."""

from __future__ import annotations

import nats


async def reset_jetstream(url: str) -> None:
    """Delete all streams, so no test sees another's messages or consumers."""
    connection = await nats.connect(url)
    try:
        jetstream = connection.jetstream()
        for stream in await jetstream.streams_info():
            if stream.config.name:
                await jetstream.delete_stream(stream.config.name)
    finally:
        await connection.drain()

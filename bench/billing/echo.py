"""The baseline's responder: plain nats-py, answering each request with its own bytes.

`python echo.py <nats_url> <subject>`; prints `ready` once subscribed. A process of its own,
as billing is, so both sides of the comparison cross the same process boundary.
"""

from __future__ import annotations

import asyncio
import sys

import nats
from nats.aio.msg import Msg


async def serve(url: str, subject: str) -> None:
    connection = await nats.connect(url, name="bench-echo")

    async def echo(msg: Msg) -> None:
        await msg.respond(msg.data)

    await connection.subscribe(subject, cb=echo)
    await connection.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))

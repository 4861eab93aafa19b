"""The baseline's responder: plain nats-py, answering each request with its own bytes.

`python echo.py <nats_url> <subject>`; prints `ready` once subscribed. A process of its own,
as billing is, so both sides of the comparison cross the same process boundary, and on uvloop,
as billing is (uvicorn runs every service on it): on asyncio's own loop the echo took 0.09 ms
longer per pair, a baseline that flattered the ratio.
"""

from __future__ import annotations

import asyncio
import sys

import nats
import uvloop
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
    uvloop.run(serve(sys.argv[1], sys.argv[2]))

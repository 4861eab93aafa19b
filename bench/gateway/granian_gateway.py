"""Serve the gateway with granian (one worker, uvloop) for the side-by-side with uvicorn.

`python bench/gateway/granian_gateway.py` with the gateway's usual `SKIFF_*` settings.
"""

from __future__ import annotations

import os
from pathlib import Path

from granian import Granian
from granian.constants import Interfaces, Loops
from litestar import Litestar
from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings
from skiff_kit.settings import load_settings


def gateway() -> Litestar:
    """The app factory granian's worker calls."""
    return create(load_settings(GatewaySettings))


if __name__ == "__main__":
    Granian(
        "granian_gateway:gateway",
        factory=True,
        address=os.environ.get("SKIFF_HOST", "127.0.0.1"),
        port=int(os.environ["SKIFF_PORT"]),
        interface=Interfaces.ASGI,
        workers=1,
        loop=Loops.uvloop,
        websockets=False,
        log_enabled=False,
        working_dir=Path(__file__).parent,
    ).serve()

"""The benchmark's upstream: a real Skiff service (the kit's app) with one small route.

Run as its own process: `python bench/gateway/upstream.py` with the usual `SKIFF_*` settings.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, get
from skiff_kit.app import create_app
from skiff_kit.internal_token import GatewayCaller
from skiff_kit.runner import run_service
from skiff_kit.settings import ServiceSettings

PATH = "/api/v1/sessions/ping"  # a signed-in route (the orchestrator's prefix)
OPEN_PATH = "/api/v1/auth/oauth/ping"  # an anonymous route (identity's OAuth prefix)


class Pong(msgspec.Struct):
    """What the route answers: who the gateway vouched for."""

    organization_id: str
    via: str


@get([PATH, OPEN_PATH], sync_to_thread=False)
def ping(caller: GatewayCaller) -> Pong:
    """A small answer for the verified caller (the internal token is checked as usual)."""
    return Pong(organization_id=caller.organization_id, via=caller.via)


def create(settings: ServiceSettings) -> Litestar:
    """The service: the kit's wiring around the one route."""
    return create_app(settings, route_handlers=[ping])


if __name__ == "__main__":
    run_service(create, ServiceSettings, script_location=None)

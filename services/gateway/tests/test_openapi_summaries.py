"""The merged document carries each route's docstring, as the service's kit documents it."""

from __future__ import annotations

import json

from gateway_helpers import StartGateway, serving
from litestar import get
from skiff_kit.app import create_app
from skiff_kit.settings import ServiceSettings


@get("/api/v1/credits/balance", sync_to_thread=False)
def balance() -> dict[str, int]:
    """The organization's credits: balance, reserved and available.

    Reserved credits are held by running sessions until they end.
    """
    return {"credits": 0}


async def test_route_docstrings_reach_the_merged_document(start_gateway: StartGateway) -> None:
    billing = create_app(ServiceSettings(service_name="billing"), route_handlers=[balance])
    async with (
        serving(billing) as billing_url,
        start_gateway(upstreams=json.dumps({"billing": billing_url})) as gateway,
    ):
        doc = (await gateway.get("/api/v1/openapi.json")).json()

    operation = doc["paths"]["/api/v1/credits/balance"]["get"]
    assert operation["summary"] == "The organization's credits: balance, reserved and available."
    assert (
        operation["description"] == "Reserved credits are held by running sessions until they end."
    )
    assert operation["tags"][0] == "billing"

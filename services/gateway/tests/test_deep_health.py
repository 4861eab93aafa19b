"""`/api/v1/health/deep`: every service, PostgreSQL as they see it, and the gateway's NATS."""

from __future__ import annotations

import json

from fake_services import FakeService
from gateway_helpers import StartGateway, serving
from skiff_embedded import free_port


async def test_all_up_is_200_with_a_latency_per_component(start_gateway: StartGateway) -> None:
    async with (
        serving(FakeService()) as identity,
        serving(FakeService()) as billing,
        start_gateway(upstreams=json.dumps({"identity": identity, "billing": billing})) as gw,
    ):
        answer = await gw.get("/api/v1/health/deep")

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["status"] == "ok"
    assert set(report["components"]) == {"identity", "billing", "postgres", "nats"}
    for name in ("identity", "billing", "nats"):
        assert report["components"][name]["status"] == "ok"
        assert report["components"][name]["latency_ms"] >= 0
    assert report["components"]["postgres"] == {
        "status": "ok",
        "critical": True,
        "reported_by": ["billing", "identity"],
    }


async def test_a_service_down_is_503_naming_it(start_gateway: StartGateway) -> None:
    absent = f"http://127.0.0.1:{free_port()}"
    async with (
        serving(FakeService()) as identity,
        start_gateway(upstreams=json.dumps({"identity": identity, "billing": absent})) as gw,
    ):
        answer = await gw.get("/api/v1/health/deep")

    assert answer.status_code == 503
    report = answer.json()
    assert report["status"] == "down"
    assert report["components"]["billing"]["status"] == "down"
    assert report["components"]["billing"]["error"].startswith("billing")
    assert report["components"]["identity"]["status"] == "ok"


async def test_a_database_a_service_cannot_reach_is_503(start_gateway: StartGateway) -> None:
    broken = FakeService(ready_status=503, checks={"database": "connection refused", "nats": "ok"})
    async with (
        serving(FakeService()) as identity,
        serving(broken) as billing,
        start_gateway(upstreams=json.dumps({"identity": identity, "billing": billing})) as gw,
    ):
        answer = await gw.get("/api/v1/health/deep")

    assert answer.status_code == 503
    postgres = answer.json()["components"]["postgres"]
    assert postgres["status"] == "down"
    assert postgres["error"] == "billing: connection refused"


async def test_an_optional_service_down_only_degrades(start_gateway: StartGateway) -> None:
    absent = f"http://127.0.0.1:{free_port()}"
    upstreams = {"sandbox_runner": absent}
    async with (
        serving(FakeService()) as identity,
        start_gateway(upstreams=json.dumps({**upstreams, "identity": identity})) as gw,
    ):
        answer = await gw.get("/api/v1/health/deep")

    assert answer.status_code == 200
    assert answer.json()["status"] == "degraded"
    assert answer.json()["components"]["sandbox_runner"]["critical"] is False


async def test_nats_down_is_503(start_gateway: StartGateway) -> None:
    nowhere = f"nats://127.0.0.1:{free_port()}"
    async with (
        serving(FakeService()) as identity,
        start_gateway(
            upstreams=json.dumps({"identity": identity}),
            nats_url=nowhere,
            ratelimit_start_wait_seconds=0.1,
            directory_start_timeout_seconds=0.1,
        ) as gw,
    ):
        answer = await gw.get("/api/v1/health/deep")

    assert answer.status_code == 503
    assert answer.json()["components"]["nats"]["status"] == "down"

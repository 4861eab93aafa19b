"""The sandbox runner in the gateway's catalog: its file routes in the merged OpenAPI, its
readiness in deep health, next to the orchestrator's."""

from __future__ import annotations

import json

from fake_services import FakeService, document, operation
from gateway_helpers import StartGateway, serving

FILES = "/api/v1/sessions/{session_id}/files"
CONTENT = "/api/v1/sessions/{session_id}/files/content"
ARCHIVE = "/api/v1/sessions/{session_id}/archive"
RUNNER = document(
    {
        FILES: {"get": operation("list files"), "delete": operation("delete file")},
        CONTENT: {"get": operation("read file"), "put": operation("write file")},
        ARCHIVE: {"get": operation("download archive")},
        "/api/v1/sessions/{session_id}/tasks": {"get": operation("runner tasks")},  # not its
    },
    {},
)
ORCHESTRATOR = document(
    {
        "/api/v1/sessions": {"post": operation("create session")},
        "/api/v1/sessions/{session_id}": {"get": operation("get session")},
        "/api/v1/sessions/{session_id}/tasks": {"get": operation("list tasks")},
        FILES: {"get": operation("orchestrator files")},  # the runner's: not taken from here
    },
    {},
)


async def test_the_merged_document_has_the_runners_file_routes_and_the_orchestrators(
    start_gateway: StartGateway,
) -> None:
    async with (
        serving(FakeService(RUNNER)) as runner,
        serving(FakeService(ORCHESTRATOR)) as orchestrator,
    ):
        upstreams = json.dumps({"sandbox_runner": runner, "orchestrator": orchestrator})
        async with start_gateway(upstreams=upstreams) as gateway:
            doc = (await gateway.get("/api/v1/openapi.json")).json()

    paths = doc["paths"]
    assert set(paths) >= {
        FILES,
        CONTENT,
        ARCHIVE,
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/tasks",
    }
    assert paths[FILES]["get"]["summary"] == "list files"
    assert set(paths[FILES]) == {"get", "delete"}
    assert paths[CONTENT]["put"]["tags"][0] == "sandbox_runner"
    assert paths[ARCHIVE]["get"]["tags"][0] == "sandbox_runner"
    assert paths["/api/v1/sessions/{session_id}/tasks"]["get"]["summary"] == "list tasks"
    assert paths["/api/v1/sessions"]["post"]["tags"][0] == "orchestrator"
    assert "x-missing-services" not in doc["info"]


async def test_deep_health_reports_the_sandbox_runner(start_gateway: StartGateway) -> None:
    async with (
        serving(FakeService()) as runner,
        serving(FakeService()) as orchestrator,
    ):
        upstreams = json.dumps({"sandbox_runner": runner, "orchestrator": orchestrator})
        async with start_gateway(upstreams=upstreams) as gateway:
            answer = await gateway.get("/api/v1/health/deep")

    assert answer.status_code == 200
    components = answer.json()["components"]
    assert components["sandbox_runner"]["status"] == "ok"
    assert components["sandbox_runner"]["critical"] is False  # optional: down only degrades
    assert "sandbox_runner" in components["postgres"]["reported_by"]

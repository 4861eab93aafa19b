"""Small stand-in services that serve `/openapi.json` and `/ready` as Skiff services do."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.types import Receive, Scope, Send


class FakeService:
    """Answers `/openapi.json` with `document` and `/ready` with `ready_status` and `checks`."""

    def __init__(
        self,
        document: dict[str, Any] | None = None,
        *,
        ready_status: int = 200,
        checks: dict[str, str] | None = None,
    ) -> None:
        self.document = document or {"openapi": "3.1.0", "info": {}, "paths": {}}
        self.ready_status = ready_status
        self.checks = checks if checks is not None else {"database": "ok", "nats": "ok"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["path"] == "/openapi.json":
            status, body = 200, self.document
        elif scope["path"] == "/ready":
            state = "ready" if self.ready_status == 200 else "not_ready"
            status, body = self.ready_status, {"status": state, "checks": self.checks}
        else:
            status, body = 404, {"error": "not found"}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": msgspec.json.encode(body)})


def operation(summary: str, *, ref: str | None = None) -> dict[str, Any]:
    """An operation answering 200 with `ref` (a schema name) or a string."""
    schema = {"$ref": f"#/components/schemas/{ref}"} if ref else {"type": "string"}
    return {
        "summary": summary,
        "operationId": summary.replace(" ", ""),
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}}
        },
    }


def document(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "a service", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }

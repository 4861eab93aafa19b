"""One OpenAPI 3.1 document for the whole API, merged from every service's `/openapi.json`."""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from skiff_kit.logging import get_logger

from skiff_gateway.placement.paths import RUNNER_SERVICE, is_placed
from skiff_gateway.routing import is_anonymous, owner_of

Document = dict[str, Any]
PUBLIC_PREFIXES = ("/api/v1/", "/webhooks/")
_log = get_logger("skiff.gateway.openapi")
SECURITY_SCHEMES: dict[str, Any] = {
    "api_key": {"type": "apiKey", "in": "header", "name": "x-api-key"},
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key (`sk_...`) or a user's access token.",
    },
    "session_cookie": {"type": "apiKey", "in": "cookie", "name": "skiff_session"},
}
SECURITY: list[dict[str, list[str]]] = [{name: []} for name in SECURITY_SCHEMES]
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ERROR_REF = "#/components/schemas/ErrorBody"
# What the gateway itself may answer on any route (docs/gateway.md, "The door").
GATEWAY_ERRORS = {
    408: "The request's head or body did not arrive in time",
    414: "The request's path and query are too long",
    429: "Too many requests (see `Retry-After` and the rate-limit headers)",
    431: "The request's headers are too large or too many",
    502: "The service behind the gateway answered with something unusable",
    503: "The service behind the gateway is unavailable",
    504: "The service behind the gateway did not answer in time",
}
CREDENTIAL_ERRORS = {
    401: "No valid credentials (`code` says which: missing, invalid, expired, revoked...)",
    403: "The credentials do not allow this (role, scope, organization)",
}
# Litestar names a generic `Page[SessionOut]` `Page_skiff_orchestrator...schemas.SessionOut_`.
_GENERIC = re.compile(r"^(?P<outer>[A-Za-z0-9]+)_(?:[A-Za-z0-9_]+\.)+(?P<inner>[A-Za-z0-9]+)_$")


def _title(service: str) -> str:
    return "".join(part.capitalize() for part in service.replace("-", "_").split("_"))


def _serves(service: str, path: str) -> bool:
    """True if the gateway routes `path` to `service` (a session's files: to its runner)."""
    if service == "gateway":
        return True
    return service == RUNNER_SERVICE if is_placed(path) else owner_of(path) == service


def _public_paths(service: str, document: Document) -> dict[str, Any]:
    """The paths a service serves through the gateway (those the gateway routes to it)."""
    paths: dict[str, Any] = document.get("paths") or {}
    return {
        path: item
        for path, item in paths.items()
        if path.startswith(PUBLIC_PREFIXES) and _serves(service, path)
    }


def _renames(documents: Mapping[str, Document]) -> dict[str, dict[tuple[str, str], str]]:
    """Per service, the components to prefix: those another service defines differently."""
    seen: dict[tuple[str, str], set[str]] = {}
    for document in documents.values():
        for section, items in (document.get("components") or {}).items():
            for name, definition in (items or {}).items():
                seen.setdefault((section, name), set()).add(json.dumps(definition, sort_keys=True))
    clashing = {key for key, definitions in seen.items() if len(definitions) > 1}
    return {
        service: {
            (section, name): f"{_title(service)}{name}"
            for section, items in (document.get("components") or {}).items()
            for name in items or {}
            if (section, name) in clashing
        }
        for service, document in documents.items()
    }


def _rewrite_refs(node: Any, refs: Mapping[str, str]) -> Any:
    """`node` with every `$ref` in `refs` pointed at its new name."""
    if isinstance(node, dict):
        rewritten: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                rewritten[key] = refs.get(value, value)
            else:
                rewritten[key] = _rewrite_refs(value, refs)
        return rewritten
    if isinstance(node, list):
        return [_rewrite_refs(item, refs) for item in node]
    return node


def _tag_operations(service: str, paths: dict[str, Any], operation_ids: set[str]) -> None:
    """Tag each operation with its service; anonymous and gateway routes need no credentials."""
    for path, item in paths.items():
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            tags = [tag for tag in operation.get("tags", []) if tag != service]
            operation["tags"] = [service, *tags]
            # The gateway's own routes (deep health) are answered before authentication.
            if is_anonymous(path) or service == "gateway":
                operation["security"] = []
            operation_id = operation.get("operationId")
            if isinstance(operation_id, str):
                if operation_id in operation_ids:
                    operation_id = operation["operationId"] = f"{_title(service)}{operation_id}"
                operation_ids.add(operation_id)


def _errors_of_the_door(paths: dict[str, Any]) -> None:
    """Add what the gateway answers itself: to every operation, and 401/403 to those that need
    credentials (a route's own documentation of a status wins)."""
    for item in paths.values():
        for method in _METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            statuses = dict(GATEWAY_ERRORS)
            if operation.get("security") != []:
                statuses.update(CREDENTIAL_ERRORS)
            for status, description in statuses.items():
                responses.setdefault(
                    str(status),
                    {
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                    },
                )
            operation["responses"] = dict(sorted(responses.items()))


def _friendly_names(document: Document) -> Document:
    """`Page_..._SessionOut_` becomes `SessionOutPage`: names generators turn into classes."""
    schemas = (document.get("components") or {}).get("schemas") or {}
    refs: dict[str, str] = {}
    for name in list(schemas):
        match = _GENERIC.match(name)
        if match is None:
            continue
        friendly = f"{match['inner']}{match['outer']}"
        if friendly in schemas:
            continue
        schemas[friendly] = schemas.pop(name)
        refs[f"#/components/schemas/{name}"] = f"#/components/schemas/{friendly}"
    for name, schema in schemas.items():
        if isinstance(schema, dict) and "title" in schema:
            schema["title"] = name  # generators name classes by title: keep them unique
    renamed: Document = _rewrite_refs(document, refs)
    return renamed


def merge(documents: Mapping[str, Document], *, version: str) -> Document:
    """The merged document of `documents` (service name → its OpenAPI document)."""
    renames = _renames(documents)
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    operation_ids: set[str] = set()
    for service in sorted(documents):
        document = copy.deepcopy(documents[service])
        renamed = renames[service]
        refs = {
            f"#/components/{section}/{name}": f"#/components/{section}/{new}"
            for (section, name), new in renamed.items()
        }
        service_paths = _rewrite_refs(_public_paths(service, document), refs)
        _tag_operations(service, service_paths, operation_ids)
        paths.update(service_paths)
        for section, items in (document.get("components") or {}).items():
            target = components.setdefault(section, {})
            for name, definition in (items or {}).items():
                target[renamed.get((section, name), name)] = _rewrite_refs(definition, refs)
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    _errors_of_the_door(paths)
    return _friendly_names(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "Skiff API",
                "version": version,
                "description": "Every public route of Skiff, through its gateway.",
            },
            "servers": [{"url": "/"}],
            "paths": dict(sorted(paths.items())),
            "components": components,
            "security": SECURITY,
            "tags": [{"name": service} for service in sorted(documents)],
        }
    )


class MergedOpenApi:
    """Fetches every service's document, merges and caches them; refetches sooner on a gap."""

    def __init__(
        self,
        upstreams: Mapping[str, str],
        own: Callable[[], Document],
        *,
        version: str,
        ttl_seconds: float,
        retry_seconds: float,
    ) -> None:
        self.upstreams = dict(upstreams)
        self.own = own
        self.version = version
        self.ttl_seconds = ttl_seconds
        self.retry_seconds = retry_seconds
        self._cached: bytes | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def document(self) -> bytes:
        """The merged document as JSON (from the cache while it is fresh)."""
        async with self._lock:
            if self._cached is None or time.monotonic() >= self._expires:
                documents, missing = await self._fetch()
                documents["gateway"] = self.own()
                merged = merge(documents, version=self.version)
                if missing:
                    merged["info"]["x-missing-services"] = sorted(missing)
                    _log.warning("openapi_incomplete", missing=sorted(missing))
                self._cached = json.dumps(merged).encode()
                ttl = self.retry_seconds if missing else self.ttl_seconds
                self._expires = time.monotonic() + ttl
            return self._cached

    async def _fetch(self) -> tuple[dict[str, Document], set[str]]:
        async with httpx.AsyncClient(timeout=3.0) as client:
            names = sorted(self.upstreams)
            answers = await asyncio.gather(
                *(client.get(self.upstreams[name] + "/openapi.json") for name in names),
                return_exceptions=True,
            )
        documents: dict[str, Document] = {}
        missing: set[str] = set()
        for name, answer in zip(names, answers, strict=True):
            try:
                if isinstance(answer, BaseException):
                    raise answer
                answer.raise_for_status()
                document = answer.json()
                if not isinstance(document, dict) or "openapi" not in document:
                    raise ValueError("not an OpenAPI document")
                documents[name] = document
            except Exception as error:
                missing.add(name)
                _log.debug("openapi_fetch_failed", service=name, error=str(error))
        return documents, missing

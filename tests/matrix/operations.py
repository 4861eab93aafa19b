"""The operations of an OpenAPI document: method, path template, path ids, body and query."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]
METHODS = ("get", "put", "post", "delete", "patch")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PARAMETER = re.compile(r"{([^}]+)}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path template, with the parts of its OpenAPI operation we need."""

    method: str  # upper case
    path: str  # the template: /api/v1/api-keys/{key_id}
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        """How test ids name it: `PATCH /api/v1/members/{user_id}`."""
        return f"{self.method} {self.path}"

    @property
    def path_parameters(self) -> list[str]:
        """The path's ids, left to right (as the template names them)."""
        return _PARAMETER.findall(self.path)

    @property
    def is_write(self) -> bool:
        return self.method in WRITE_METHODS

    @property
    def is_anonymous(self) -> bool:
        """The document says no credentials are needed (`security: []`)."""
        return self.spec.get("security") == []

    def required_query(self) -> list[dict[str, Any]]:
        """The query parameters the operation cannot be called without."""
        return [
            parameter
            for parameter in self.spec.get("parameters", [])
            if parameter.get("in") == "query" and parameter.get("required")
        ]

    def body_schema(self) -> dict[str, Any] | None:
        """The JSON schema of its request body, when it takes one."""
        content = (self.spec.get("requestBody") or {}).get("content") or {}
        media = content.get("application/json")
        return None if media is None else media.get("schema", {})

    def url(self, ids: dict[str, str]) -> str:
        """The concrete path with each `{name}` replaced by `ids[name]`."""
        return _PARAMETER.sub(lambda match: ids[match.group(1)], self.path)


def operations(document: Document) -> Iterator[Operation]:
    """Every operation of the document, sorted by path then method."""
    for path, item in sorted((document.get("paths") or {}).items()):
        for method in METHODS:
            spec = item.get(method)
            if isinstance(spec, dict):
                yield Operation(method.upper(), path, spec)

"""Hostile JSON bodies are refused before any decoder sees them: too deep, not UTF-8, too big.

msgspec decodes recursively: a body nested 10 000 deep raises RecursionError, and invalid
UTF-8 inside a string raises UnicodeDecodeError, both of which would surface as 500s. Every
JSON request body is read here first (bounded), checked, and handed on unchanged.
"""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

import msgspec
from litestar.types import ASGIApp, Receive, Scope, Send

from skiff_kit.errors import ErrorBody

MAX_DEPTH = 64
MAX_JSON_BODY_BYTES = 4 * 1024 * 1024

# A JSON string (the unrolled form: fast, no backtracking); what is left are the structure.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest in `body` (brackets inside strings do not count)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    if not brackets:
        return 0
    return max(accumulate(map(_STEP.__getitem__, brackets)))


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return False


class JsonGuard:
    """Reads a JSON request's body whole, refuses what a decoder must not see, replays the rest."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_JSON_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message: Any = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                message = f"A JSON body may be at most {self.max_bytes} bytes."
                details = {"max_bytes": self.max_bytes}
                await _refuse(scope, send, 413, ("payload_too_large", message, details))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _problem(body)
        if problem is not None:
            await _refuse(scope, send, 400, problem)
            return
        await self.app(scope, _replay(body, receive), send)


def _problem(body: bytes) -> tuple[str, str, dict[str, Any]] | None:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"The body is not valid UTF-8 (byte {error.start})."
        return "invalid_utf8", message, {"position": error.start}
    depth = nesting_depth(body)
    if depth > MAX_DEPTH:
        message = f"The JSON body nests {depth} levels deep; at most {MAX_DEPTH} are allowed."
        return "json_too_deep", message, {"depth": depth, "max_depth": MAX_DEPTH}
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: only a disconnect can come

    return replayed


async def _refuse(
    scope: Scope, send: Send, status: int, problem: tuple[str, str, dict[str, Any]]
) -> None:
    code, message, details = problem
    request_id = str(scope.get("state", {}).get("request_id", ""))
    body = msgspec.json.encode(
        ErrorBody(error=message, code=code, details=details, request_id=request_id)
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})

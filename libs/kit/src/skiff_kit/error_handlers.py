"""Litestar exception handlers: every failure answers `ErrorBody`, never a traceback."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from skiff_kit.database_errors import RETRY_AFTER_SECONDS, database_unreachable
from skiff_kit.errors import CODE_BY_STATUS, ErrorBody, SkiffError
from skiff_kit.logging import get_logger
from skiff_kit.names import NOT_PRINTABLE, NOT_PRINTABLE_MSGSPEC
from skiff_kit.request_context import request_id_of

_log = get_logger("skiff.errors")
_MISSING_FIELD = re.compile(r"Object missing required field `(?P<field>[^`]+)`")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<field>[^`]+)`")
_MISSING_PARAMETER = re.compile(r"Missing required (?P<kind>\w+) parameter '(?P<field>[^']+)'")
_INTERNAL_MESSAGE = "Internal server error"
AnyRequest = Request[Any, Any, Any]


def error_response(
    request: AnyRequest,
    *,
    status_code: int,
    message: str,
    code: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    """An `ErrorBody` response carrying this request's id."""
    body = ErrorBody(
        error=message, code=code, details=details or {}, request_id=request_id_of(request)
    )
    return Response(body, status_code=status_code, headers=headers, media_type=MediaType.JSON)


def code_for_status(status_code: int) -> str:
    """The snake_case code of an HTTP status: `rate_limited` for 429, `gone` for 410 ..."""
    if code := CODE_BY_STATUS.get(status_code):
        return code
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        return "http_error"
    return re.sub(r"[^a-z0-9]+", "_", phrase.lower()).strip("_")


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    """Litestar's `extra` (msgspec errors keyed by path) as `[{field, message}]`."""
    fields: list[dict[str, str]] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        key = str(item.get("key") or "")
        message = str(item.get("message") or "is invalid")
        if missing := _MISSING_FIELD.search(message):
            name = missing.group("field")
            key = name if key in ("", "data") else f"{key}.{name}"
            message = "is required"
        elif unknown := _UNKNOWN_FIELD.search(message):  # named, not `data` (the whole body)
            name = unknown.group("field")
            key = name if key in ("", "data") else f"{key}.{name}"
            message = f"`{name}` is not a field of this request"
        elif message == NOT_PRINTABLE_MSGSPEC:
            message = NOT_PRINTABLE
        elif key == "data" and message == "'data'":
            key, message = "body", "a JSON body is required"
        fields.append({"field": key or "body", "message": message})
    if not fields and (missing_parameter := _MISSING_PARAMETER.search(str(exc.detail))):
        fields.append({"field": missing_parameter.group("field"), "message": "is required"})
    return fields


def handle_skiff_error(request: AnyRequest, exc: SkiffError) -> Response[ErrorBody]:
    """A domain error: its own status, code, message, details and headers."""
    if exc.status_code >= 500:
        _log.error("request_failed", code=exc.code, error=exc.message, exc_info=exc)
    return error_response(
        request,
        status_code=exc.status_code,
        message=exc.message,
        code=exc.code,
        details=exc.details,
        headers=exc.headers or None,
    )


def handle_validation(request: AnyRequest, exc: ValidationException) -> Response[ErrorBody]:
    """Bad body, query, path or header values: 400 `validation_error` listing each field."""
    fields = _field_errors(exc)
    message = "Validation failed" if fields else str(exc.detail)
    if fields:
        message = "Validation failed: " + ", ".join(f"{f['field']} {f['message']}" for f in fields)
    return error_response(
        request,
        status_code=400,
        message=message,
        code="validation_error",
        details={"fields": fields},
    )


def handle_http_exception(request: AnyRequest, exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's own errors (404, 405, malformed JSON, ...) in the Skiff shape."""
    if exc.status_code >= 500:
        return handle_internal(request, exc)
    code = code_for_status(exc.status_code)
    details: dict[str, Any] = {}
    if type(exc) is ClientException and exc.status_code == 400:
        # Litestar raises a bare ClientException when the body cannot be decoded at all.
        code = "validation_error"
        details = {"fields": [{"field": "body", "message": str(exc.detail)}]}
    elif isinstance(exc.extra, dict):
        details = dict(exc.extra)
    return error_response(
        request,
        status_code=exc.status_code,
        message=str(exc.detail),
        code=code,
        details=details,
        headers=exc.headers,
    )


# Text with a NUL (\u0000), which JSON allows and PostgreSQL cannot store: "character not in
# repertoire" in text columns, "untranslatable character" in JSONB. It is the client's input,
# so a 400, whatever route it reached.
_NUL_IN_TEXT = frozenset({"22021", "22P05"})


def _sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind `exc` (SQLAlchemy wraps asyncpg's error), if any."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        state = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(state, str):
            return state
        seen = getattr(seen, "orig", None) or seen.__cause__
    return None


def handle_internal(request: AnyRequest, exc: Exception) -> Response[ErrorBody]:
    """Anything unexpected: logged with its traceback, answered 500 without internals.

    PostgreSQL out of reach is not unexpected: 503 `database_unavailable` with `Retry-After`.
    """
    if database_unreachable(exc):
        _log.warning("database_unavailable", path=request.url.path, error=repr(exc)[:300])
        return error_response(
            request,
            status_code=503,
            message="The database is unavailable; try again shortly.",
            code="database_unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if _sqlstate(exc) in _NUL_IN_TEXT:
        return error_response(
            request,
            status_code=400,
            message="Text fields may not contain the NUL character (\\u0000).",
            code="validation_error",
        )
    _log.error(
        "unhandled_exception",
        method=request.method,
        path=request.url.path,
        error_type=type(exc).__name__,
        exc_info=exc,
    )
    return error_response(
        request, status_code=500, message=_INTERNAL_MESSAGE, code="internal_error"
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    SkiffError: handle_skiff_error,
    ValidationException: handle_validation,
    NotFoundException: handle_http_exception,
    MethodNotAllowedException: handle_http_exception,
    HTTPException: handle_http_exception,
    Exception: handle_internal,
}

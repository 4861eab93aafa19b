"""Every operation documents the errors it can answer, each with the shared `ErrorBody`.

Litestar documents one error by itself, a 400 in its own shape (`status_code`, `detail`),
which is not what a Skiff service answers. `document_errors` gives every HTTP route the
statuses its signature implies, plus the domain errors it declares with
`responses=errors(409, 402)`, all pointing at the one `ErrorBody` component:

| status | when |
| --- | --- |
| 400 | always: a bad parameter, body, header (`validation_error`, `invalid_utf8`, ...) |
| 401, 403 | the route needs a principal (credentials; role or scope) |
| 404 | the path names a resource |
| 413 | the route takes a JSON body (at most 4 MiB) |
| 422 | the route honours `Idempotency-Key` (the key reused with another request) |
| 503 | the route uses the database (`database_unavailable`) |

The gateway adds what it answers itself on every route (429, 502-504, ...).
"""

from __future__ import annotations

from http import HTTPStatus

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.routes import HTTPRoute

from skiff_kit.errors import ErrorBody

DESCRIPTIONS: dict[int, str] = {
    400: "Invalid parameters, body or headers (`validation_error` lists each bad field)",
    401: "No valid credentials",
    402: "Not enough credits (`insufficient_credits`: `details.required`, `details.available`)",
    403: "The caller's role or the key's scopes do not allow it",
    404: "No such resource in the caller's organization",
    409: "The request conflicts with the resource's current state",
    413: "The body (or what it would send on) is too large",
    422: "The Idempotency-Key was used with another request",
    429: "Too many requests (see `Retry-After`)",
    502: "An upstream answered with an error",
    503: "A dependency is unavailable; retry after `Retry-After`",
    504: "An upstream did not answer in time",
}


def error_response(status: int) -> ResponseSpec:
    """The documented answer of an error status: `ErrorBody`, described."""
    description = DESCRIPTIONS.get(status) or HTTPStatus(status).phrase
    return ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)


def _statuses(route: HTTPRoute, handler: HTTPRouteHandler) -> set[int]:
    parameters = set(handler.parsed_fn_signature.parameters)
    statuses = {400}
    if "principal" in parameters:
        statuses |= {401, 403}
    if route.path_parameters:
        statuses.add(404)
    if "data" in parameters:
        statuses.add(413)
    if "idempotency" in parameters:
        statuses.add(422)
    if "db_session" in parameters:
        statuses.add(503)
    return statuses


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """`responses=` of a route: the domain errors it may answer (its 409s, 402s...)."""
    return {status: error_response(status) for status in sorted(set(statuses))}


def document_errors(app: Litestar) -> None:
    """Give each operation its error responses (a `responses=` set on a route wins)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            responses = dict(handler.responses or {})
            for status in sorted(_statuses(route, handler)):
                responses.setdefault(status, error_response(status))
            handler.responses = responses

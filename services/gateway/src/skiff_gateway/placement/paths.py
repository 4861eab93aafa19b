"""Which public paths are served by the runner holding a session, not by a fixed service."""

from __future__ import annotations

import re

RUNNER_SERVICE = "sandbox_runner"  # its name in SKIFF_UPSTREAMS, errors and the OpenAPI tags

# `/api/v1/sessions/{id}/files`, `.../files/content`, `.../archive`: concrete or templated.
_PLACED = re.compile(r"/api/v1/sessions/(?P<session>[^/]+)/(?:files|files/content|archive)")
# What a session id can be (and a NATS KV key must be): anything else has no placement.
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")


def is_placed(path: str) -> bool:
    """True for a path (or an OpenAPI path template) served by the session's runner."""
    return _PLACED.fullmatch(path) is not None


def placed_session(path: str) -> str | None:
    """The session whose runner serves `path`; "" when the id cannot be one; None otherwise."""
    match = _PLACED.fullmatch(path)
    if match is None:
        return None
    session_id = match["session"]
    return session_id if _SESSION_ID.fullmatch(session_id) else ""

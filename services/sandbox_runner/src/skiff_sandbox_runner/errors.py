"""The runner's domain errors, each carrying its HTTP status and code (the kit renders them)."""

from __future__ import annotations

from skiff_kit.errors import NotFound, SkiffError


class PayloadTooLarge(SkiffError):
    """An upload is bigger than `SKIFF_FILE_UPLOAD_LIMIT_BYTES`."""

    status_code = 413
    code = "payload_too_large"
    default_message = "Payload too large"


class SessionNotHeld(NotFound):
    """This runner holds no live session with that id in the caller's organization."""

    code = "session_not_found"
    default_message = "Session not found"

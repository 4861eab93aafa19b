"""The errors of skiff_messaging: refusing an event, failing a request, failing to publish."""

from __future__ import annotations

from typing import Any

import msgspec
from skiff_kit.errors import SkiffError


class MessagingError(Exception):
    """Base of every error this library raises."""


class PermanentError(MessagingError):
    """Raised by an event handler when the event can never succeed: dead-lettered, not retried."""


class EventTooLarge(PermanentError, SkiffError):
    """An event would not fit in one NATS message: refused before its transaction commits.

    Inputs are limited so that valid requests always fit; reaching this means a limit is
    missing, so the request is refused (413) instead of committing what can never be sent.
    """

    status_code = 413
    code = "event_too_large"

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        SkiffError.__init__(
            self,
            f"The {event_type} event this request makes would be {size} bytes; "
            f"the message bus accepts at most {limit}.",
            details={"event_type": event_type, "size": size, "max_bytes": limit},
        )


class PublishFailed(MessagingError):
    """JetStream did not acknowledge a publish (the outbox keeps the event for a retry)."""


class RequestFailed(MessagingError):
    """A NATS request got no usable answer."""

    def __init__(self, subject: str, message: str) -> None:
        super().__init__(message)
        self.subject = subject


class NoResponders(RequestFailed):
    """Nobody listens on the subject: the responding service is down or not started."""

    def __init__(self, subject: str) -> None:
        super().__init__(subject, f"no responders on {subject!r}: is the service running?")


class RequestTooLarge(RequestFailed):
    """The request would not fit in one NATS message; it was not sent."""

    def __init__(self, subject: str, size: int, limit: int) -> None:
        super().__init__(
            subject, f"request on {subject!r} is {size} bytes; NATS accepts at most {limit}"
        )
        self.size = size
        self.limit = limit


class RequestTimeout(RequestFailed):
    """A responder exists but did not answer in time."""

    def __init__(self, subject: str, timeout: float) -> None:
        super().__init__(subject, f"request on {subject!r} got no reply within {timeout:g}s")
        self.timeout = timeout


class RemoteError(RequestFailed):
    """The responder answered with an error body (a `ReplyError` on its side)."""

    def __init__(
        self,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        *,
        subject: str = "",
    ) -> None:
        super().__init__(subject, f"{subject or 'request'} failed: {code}: {message}")
        self.code = code
        self.remote_message = message
        self.details = details or {}


class ReplyError(MessagingError):
    """Raised by a request handler to answer with an error body instead of a reply."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details or {}


class ErrorBody(msgspec.Struct, kw_only=True, frozen=True):
    """The wire form of an error reply (sent with the `Skiff-Error` header)."""

    code: str
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)

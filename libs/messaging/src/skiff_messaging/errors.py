"""The errors of skiff_messaging: refusing an event, failing a request, failing to publish."""

from __future__ import annotations

from typing import Any

import msgspec


class MessagingError(Exception):
    """Base of every error this library raises."""


class PermanentError(MessagingError):
    """Raised by an event handler when the event can never succeed: dead-lettered, not retried."""


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

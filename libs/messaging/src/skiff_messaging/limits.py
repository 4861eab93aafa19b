"""How big one NATS message may be: the server's `max_payload`, headers included.

NATS refuses a message whose headers and payload together exceed the `max_payload` its INFO
announced, and it does so by closing the connection. nats-py only compares the payload alone
with that limit, so a message with headers can pass its check and still cost every
subscription of the process its connection. Skiff measures the whole message before sending.
"""

from __future__ import annotations

from collections.abc import Mapping

from nats.errors import MaxPayloadError

DEFAULT_MAX_PAYLOAD = 1024 * 1024  # the server's default; replaced by what it announces
# "NATS/1.0\r\n" opens a header block and an empty line ends it.
_HEADER_FRAME = len(b"NATS/1.0\r\n") + len(b"\r\n")

_max_payload = DEFAULT_MAX_PAYLOAD


class MessageTooLarge(MaxPayloadError):
    """A message (headers included) is larger than the server accepts; it was not sent."""

    def __init__(self, subject: str, size: int, limit: int) -> None:
        super().__init__()
        self.subject = subject
        self.size = size
        self.limit = limit

    def __str__(self) -> str:
        return (
            f"message on {self.subject!r} is {self.size} bytes with its headers; "
            f"the NATS server accepts at most {self.limit}"
        )


def header_size(headers: Mapping[str, str] | None) -> int:
    """Bytes the header block takes on the wire (as nats-py writes it: `Key: value\\r\\n`)."""
    if not headers:
        return 0
    lines = sum(len(k.strip().encode()) + len(v.strip().encode()) + 4 for k, v in headers.items())
    return _HEADER_FRAME + lines


def message_size(payload: bytes, headers: Mapping[str, str] | None = None) -> int:
    """What the server counts against `max_payload`: headers plus payload."""
    return len(payload) + header_size(headers)


def max_payload() -> int:
    """The largest message the server announced (the default until a connection reported)."""
    return _max_payload


def observe_max_payload(limit: int) -> None:
    """Remember what a server announced (every connection of a process reports it)."""
    global _max_payload
    if limit > 0:
        _max_payload = limit


def check_fits(subject: str, payload: bytes, headers: Mapping[str, str] | None = None) -> None:
    """Raise `MessageTooLarge` unless the message fits the announced `max_payload`."""
    size = message_size(payload, headers)
    if size > _max_payload:
        raise MessageTooLarge(subject, size, _max_payload)

"""What lives only in NATS's memory (the LIVE stream, the rate-limit bucket) is gone after a
NATS restart. It is provisioned again on reconnection (`connection.on_reconnect`) and, in case
an operation comes first, when an operation finds it missing (`provisioned`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from nats.errors import NoRespondersError
from nats.js.errors import NoStreamResponseError, NotFoundError

log = structlog.get_logger("skiff_messaging.provision")

T = TypeVar("T")
_STREAM_NOT_FOUND = 10059


def is_missing_stream(error: BaseException) -> bool:
    """True when `error` says the stream (or KV / object bucket) behind an operation is gone."""
    if isinstance(error, NoRespondersError | NoStreamResponseError):
        return True
    return isinstance(error, NotFoundError) and error.err_code == _STREAM_NOT_FOUND


async def provisioned(
    operation: Callable[[], Awaitable[T]], provision: Callable[[], Awaitable[object]]
) -> T:
    """`operation()`; if its stream is missing, `provision()` it and try once more."""
    try:
        return await operation()
    except Exception as error:
        if not is_missing_stream(error):
            raise
        log.warning("stream missing; provisioning it again", error=repr(error))
        await provision()
        return await operation()

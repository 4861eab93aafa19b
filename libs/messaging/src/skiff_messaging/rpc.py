"""Request/reply over core NATS for commands that need an answer now."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import msgspec
import nats.errors
import structlog
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from opentelemetry.context import attach, detach
from opentelemetry.trace import SpanKind, Status, StatusCode, set_span_in_context

from skiff_messaging.errors import (
    ErrorBody,
    NoResponders,
    RemoteError,
    ReplyError,
    RequestFailed,
    RequestTimeout,
    RequestTooLarge,
)
from skiff_messaging.limits import MessageTooLarge
from skiff_messaging.tracing import context_of, trace_headers, tracer

log = structlog.get_logger("skiff_messaging.rpc")

T = TypeVar("T")
Q = TypeVar("Q", bound=msgspec.Struct)

ERROR_HEADER = "Skiff-Error"


async def request(
    nc: NATS,
    subject: str,
    body: msgspec.Struct,
    reply_type: type[T],
    *,
    timeout: float = 2.0,  # noqa: ASYNC109 - a request's own deadline, not a wrapper's
) -> T:
    """Send `body` to whoever serves `subject` and decode the reply into `reply_type`.

    Raises NoResponders, RequestTimeout, RequestTooLarge (not sent: over the server's
    max_payload), RemoteError (the responder's ReplyError) or RequestFailed (a reply that does
    not decode).
    """
    # The span need not be current: nothing runs inside it but the exchange, and its context
    # goes out in the headers (start_as_current_span's two context managers cost more).
    with tracer.start_span(f"{subject} request", kind=SpanKind.CLIENT) as span:
        try:
            msg = await nc.request(
                subject,
                msgspec.json.encode(body),
                timeout=timeout,
                headers=trace_headers(span) or None,
            )
        except MessageTooLarge as exc:
            span.set_status(Status(StatusCode.ERROR, "too large"))
            raise RequestTooLarge(subject, exc.size, exc.limit) from None
        except nats.errors.NoRespondersError:
            span.set_status(Status(StatusCode.ERROR, "no responders"))
            raise NoResponders(subject) from None
        except nats.errors.TimeoutError:
            span.set_status(Status(StatusCode.ERROR, "timeout"))
            raise RequestTimeout(subject, timeout) from None
        if msg.headers and ERROR_HEADER in msg.headers:
            try:
                error = msgspec.json.decode(msg.data, type=ErrorBody)
            except (msgspec.DecodeError, msgspec.ValidationError):
                text = msg.data.decode(errors="replace")
                error = ErrorBody(code=msg.headers[ERROR_HEADER], message=text)
            span.set_status(Status(StatusCode.ERROR, error.code))
            raise RemoteError(error.code, error.message, error.details, subject=subject)
        try:
            return msgspec.json.decode(msg.data, type=reply_type)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RequestFailed(subject, f"malformed reply on {subject!r}: {exc}") from exc


async def serve(
    nc: NATS,
    subject: str,
    request_type: type[Q],
    handler: Callable[[Q], Awaitable[msgspec.Struct]],
    *,
    queue: str,
    concurrency: int = 32,
) -> Subscription:
    """Answer requests on `subject` in queue group `queue`, up to `concurrency` at a time.

    A ReplyError from the handler is sent back as an error body; an undecodable request as
    `bad_request`; anything else as `internal` (and logged).
    """
    slots = asyncio.Semaphore(concurrency)
    running: set[asyncio.Task[None]] = set()
    decoder = msgspec.json.Decoder(request_type)

    name = f"{subject} process"

    async def answer(msg: Msg) -> None:
        async with slots:
            context = context_of(msg.headers)
            with tracer.start_span(name, context=context, kind=SpanKind.SERVER) as span:
                # Current while the handler runs: its logs, calls and events carry the trace.
                token = attach(set_span_in_context(span))
                try:
                    reply = msgspec.json.encode(await handler(decoder.decode(msg.data)))
                    headers = None
                except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                    reply, headers = _error("bad_request", f"invalid request: {exc}")
                except ReplyError as exc:
                    reply, headers = _error(exc.code, exc.message, exc.details)
                except Exception:
                    log.exception("request handler crashed", subject=subject)
                    reply, headers = _error("internal", f"{subject} failed unexpectedly")
                finally:
                    detach(token)
                if headers is not None:
                    span.set_status(Status(StatusCode.ERROR, headers[ERROR_HEADER]))
            if msg.reply:
                try:
                    await nc.publish(msg.reply, reply, headers=headers)
                except MessageTooLarge as exc:
                    log.error("reply too large", subject=subject, error=str(exc))
                    reply, headers = _error("reply_too_large", str(exc))
                    await nc.publish(msg.reply, reply, headers=headers)

    async def receive(msg: Msg) -> None:
        task = asyncio.create_task(answer(msg))
        running.add(task)
        task.add_done_callback(running.discard)

    return await nc.subscribe(subject, queue=queue, cb=receive)


def _error(
    code: str, message: str, details: dict[str, object] | None = None
) -> tuple[bytes, dict[str, str]]:
    body = ErrorBody(code=code, message=message, details=dict(details or {}))
    return msgspec.json.encode(body), {ERROR_HEADER: code}

"""uvicorn's httptools protocol with an edge: header limits, slow-client timeouts, JSON errors.

uvicorn (0.54, httptools) takes headers of any number and size, waits forever for a head or a
body that trickles in, never times out a fresh connection that sends nothing, and answers a
parse error in plain text. This subclass keeps uvicorn's request handling and adds:

- per request: at most `max_header_count` headers, each (name + value) and the request target
  at most `max_header_bytes`, all together at most `max_head_bytes`; else 431 (414 for the
  target). A head still incomplete is measured on the raw bytes, so a header that never ends
  is cut off after the limit plus one socket read, before the parser buffers more of it;
- the head must be complete `header_timeout` after its first byte, and a fresh connection
  must start one within that time (closed without an answer otherwise); a body may pause at
  most `body_timeout` (never counted while the server itself stopped reading); else 408;
- a kept-alive connection without a next request is closed after `idle_timeout`;
- whatever the parser refuses is 400 in the error shape.

Answers are written only where they cannot be mistaken for another request's: not while an
earlier (pipelined) request is still being answered, not after this request's answer began
(then the connection is just closed). After an answer the connection lingers half-closed,
dropping what the client still sends, so that a client still writing reads the answer
instead of a reset (as nginx's lingering close). A body the application answered before
reading it (an early 401) is still read to its end and dropped, as uvicorn does, so that the
connection serves again; the body timeout keeps applying to it. The fast path (a whole
request in one read) adds a few attribute updates; timers run only while a head or body is
incomplete.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from skiff_kit.http_limits import (
    HttpLimits,
    Refusal,
    header_refused,
    malformed,
    target_refused,
    timed_out,
)
from skiff_kit.logging import get_logger
from skiff_kit.request_context import new_request_id

_IDLE, _HEAD, _BODY, _DONE = 0, 1, 2, 3  # where the parser is; _DONE: upgraded or closing
_LINGER_QUIET_SECONDS = 2.0  # close a lingering connection after this long without data
_LINGER_MAX_SECONDS = 10.0  # and in any case after this long

_log = get_logger("skiff.http")


class _Refused(Exception):
    """Raised in a parser callback; httptools wraps it, `data_received` answers the refusal."""


class GuardedHttpProtocol(HttpToolsProtocol):
    """One HTTP/1.1 connection, with the limits of `limits` (see `protocol_for`)."""

    limits: ClassVar[HttpLimits] = HttpLimits()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.limits.idle_timeout  # type: ignore[assignment]
        self._phase = _IDLE
        self._read = 0  # bytes of the latest read
        self._first = 0  # bytes of the read the current head began in
        self._raw = 0  # bytes of the later reads since the current head began
        self._timer: asyncio.TimerHandle | None = None
        self._body_at = 0.0  # loop time of the latest body bytes
        self._refusal: Refusal | None = None
        self._linger_at = 0.0
        self._linger_until = 0.0

    # Connection events

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # A fresh connection must start its request in time (as nginx and Go do); uvicorn's
        # keep-alive timer closes it silently, and the first byte cancels it.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.limits.header_timeout, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        self._phase = _DONE
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        phase = self._phase
        if phase == _DONE:
            self._linger_at = self.loop.time()  # lingering: what still comes is dropped
            return
        self._unset_keepalive_if_required()
        self._read = size = len(data)
        if phase == _HEAD:
            self._raw += size
        elif phase == _IDLE:  # bytes before a head (even blank lines) start its clock
            self._phase, self._first, self._raw = _HEAD, size, 0
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self._cancel_timer()
                self._phase = _DONE
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError as error:
            self.refuse(self._refusal or malformed(error))
            return
        phase = self._phase
        if phase == _HEAD:
            if self._raw > self.limits.max_head_bytes:
                self.refuse(header_refused("head_bytes", self.limits.max_head_bytes))
            elif self._timer is None:
                self._timer = self.loop.call_later(self.limits.header_timeout, self._expired)
        elif phase == _BODY:
            self._body_at = self.loop.time()
            if self._timer is None:
                self._timer = self.loop.call_later(self.limits.body_timeout, self._expired)
        elif self.cycle is not None and self.cycle.response_complete and self._drained():
            # The rest of a body answered early (a 401 before the upload) was read and dropped,
            # so the connection serves again: it is idle from here, its timer starts again.
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def _drained(self) -> bool:
        """True when, every request being answered, no idle timer runs."""
        return (
            not self.pipeline
            and self.timeout_keep_alive_task is None
            and not self.transport.is_closing()
        )

    # Parser callbacks (uvicorn's, called directly: cheaper than super() on Python 3.11)

    def on_message_begin(self) -> None:
        self._phase, self._first, self._raw = _HEAD, self._read, 0
        _base_message_begin(self)

    def on_headers_complete(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        limits = self.limits
        # The head is at most `_first + _raw` bytes: when that is within the smaller size
        # limit no header can be over a limit, so only the count is checked on the fast path.
        if (
            len(self.headers) > limits.max_header_count
            or self._first + self._raw > limits.max_header_bytes
        ) and (refusal := self._oversize()) is not None:
            self._refusal = refusal
            raise _Refused(refusal.code)
        _base_headers_complete(self)  # if it raises (a path that is not ASCII), still a head
        self._phase = _BODY

    def on_message_complete(self) -> None:
        self._phase = _IDLE
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        _base_message_complete(self)

    # Refusals

    def refuse(self, refusal: Refusal) -> None:
        """Answer `refusal` if no other answer is due or under way on this connection; close."""
        self._cancel_timer()
        cycle = self.cycle
        request_id: str | None = None
        if self._phase == _BODY and cycle is not None:  # about the request being answered
            answer = not cycle.response_started
            request_id = cycle.scope.get("state", {}).get("request_id")
            cycle.disconnected = True  # its application reads a disconnect, its answer is dropped
            cycle.message_event.set()
        else:  # about a new head: only if every earlier request has its whole answer
            answer = cycle is None or cycle.response_complete
        self._phase = _DONE
        client = f"{self.client[0]}:{self.client[1]}" if self.client else None
        _log.info("http_refused", status=refusal.status, code=refusal.code, client=client)
        if not answer:
            self.transport.close()
            return
        request_id = request_id or new_request_id()
        self.transport.write(refusal.encode(request_id, self.server_state.default_headers))
        self._linger()

    def _oversize(self) -> Refusal | None:
        """The refusal of a complete head over a limit (the exact, slower check), or None."""
        limits = self.limits
        if len(self.url) > limits.max_header_bytes:
            return target_refused(limits.max_header_bytes)
        total = len(self.url)
        for name, value in self.headers:
            size = len(name) + len(value)
            if size > limits.max_header_bytes:
                return header_refused("header_bytes", limits.max_header_bytes, name)
            total += size
        if len(self.headers) > limits.max_header_count:
            return header_refused("header_count", limits.max_header_count)
        if total > limits.max_head_bytes:
            return header_refused("head_bytes", limits.max_head_bytes)
        return None

    # Timers

    def _expired(self) -> None:
        self._timer = None
        limits, now = self.limits, self.loop.time()
        if self.flow.read_paused:  # we stopped reading, not the client: its clock is not running
            self._body_at = now
            wait = limits.header_timeout if self._phase == _HEAD else limits.body_timeout
            self._timer = self.loop.call_later(wait, self._expired)
        elif self._phase == _HEAD:
            self.refuse(timed_out("headers", limits.header_timeout))
        elif self._phase == _BODY:
            quiet = now - self._body_at
            if quiet < limits.body_timeout:
                self._timer = self.loop.call_later(limits.body_timeout - quiet, self._expired)
            else:
                self.refuse(timed_out("body", limits.body_timeout))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _linger(self) -> None:
        """Half-close after the answer and drop input until the client goes or time is up."""
        self._phase = _DONE
        self._unset_keepalive_if_required()
        now = self.loop.time()
        self._linger_at, self._linger_until = now, now + _LINGER_MAX_SECONDS
        try:
            self.transport.write_eof()
        except (NotImplementedError, OSError, RuntimeError):
            self.transport.close()
            return
        self.flow.resume_reading()
        self._timer = self.loop.call_later(_LINGER_QUIET_SECONDS, self._linger_check)

    def _linger_check(self) -> None:
        self._timer = None
        now = self.loop.time()
        wait = min(self._linger_at + _LINGER_QUIET_SECONDS, self._linger_until) - now
        if wait <= 0:
            self.transport.close()
        else:
            self._timer = self.loop.call_later(wait, self._linger_check)


_base_message_begin = HttpToolsProtocol.on_message_begin
_base_headers_complete = HttpToolsProtocol.on_headers_complete
_base_message_complete = HttpToolsProtocol.on_message_complete


def protocol_for(limits: HttpLimits) -> type[GuardedHttpProtocol]:
    """The protocol class uvicorn's `Config(http=...)` takes, with these limits."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"limits": limits})

"""A keyed request's answer: captured as it streams to the client, kept, and replayed."""

from __future__ import annotations

from litestar.types import Message, Send

from skiff_gateway.idempotency.errors import IdempotencyKeyUsed
from skiff_gateway.idempotency.keys import Answer, CallerKey
from skiff_gateway.idempotency.store import Claim, IdempotencyStore, Record
from skiff_gateway.proxy import RawHeaders

REPLAYED_HEADER = (b"idempotent-replayed", b"true")
# Not kept with an answer: a replay sends its own (and its request's rate-limit headers).
_NOT_KEPT = frozenset({b"content-length", b"x-request-id"})


async def replay(
    send: Send, record: Record, caller_key: CallerKey, response_headers: RawHeaders
) -> None:
    """The kept answer, marked as a replay, with this request's rate-limit headers."""
    answer = caller_key.unseal(record.answer) if record.answer is not None else None
    if answer is None:
        raise IdempotencyKeyUsed
    headers = [
        *answer.headers,
        (b"content-length", b"%d" % len(answer.body)),
        REPLAYED_HEADER,
        *response_headers,
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})


class Capture:
    """Passes the service's answer on, keeping a copy (up to `max_answer` bytes of body).

    The claim is settled before the last part goes out, so a client that has the whole
    answer finds it kept. An answer worth retrying (5xx, 429) releases the claim instead.
    """

    def __init__(
        self,
        store: IdempotencyStore,
        claim: Claim,
        caller_key: CallerKey,
        send: Send,
        response_headers: RawHeaders,
        max_answer: int,
    ) -> None:
        self.store = store
        self.claim = claim
        self.caller_key = caller_key
        self.downstream = send
        self.not_kept = _NOT_KEPT | {name for name, _ in response_headers}
        self.max_answer = max_answer
        self.status = 0
        self.headers: RawHeaders = []
        self.parts: list[bytes] = []
        self.size = 0
        self.settled = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = [
                (name, value)
                for name, value in message.get("headers", ())
                if name not in self.not_kept
            ]
        elif message["type"] == "http.response.body":
            chunk: bytes = message.get("body", b"")
            self.size += len(chunk)
            if self.size <= self.max_answer:
                self.parts.append(chunk)
            if not message.get("more_body", False):
                await self._settle()
        await self.downstream(message)

    async def _settle(self) -> None:
        self.settled = True
        if self.status >= 500 or self.status == 429:  # not done, or not done yet
            await self.store.release(self.claim)
            return
        sealed = None
        if self.size <= self.max_answer:
            answer = Answer(self.status, self.headers, b"".join(self.parts))
            sealed = self.caller_key.seal(answer)
        await self.store.finish(self.claim, sealed)

"""multipart/form-data read as it arrives: each file part's body is a stream, never buffered.

Uses the push parser of `multipart`, the parser Litestar itself is built on.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from multipart import (  # type: ignore[import-untyped]
    MultipartError,
    MultipartSegment,
    ParserLimitReached,
    PushMultipartParser,
)
from skiff_kit.errors import BadRequest

from skiff_sandbox_runner.errors import PayloadTooLarge

MAX_PARTS = 1000


class MultipartStream:
    """Walk the parts in order: `async for segment in parts()`, then read `body()` of each."""

    def __init__(self, chunks: AsyncIterable[bytes], boundary: str) -> None:
        self._chunks = chunks
        self._boundary = boundary
        self._events = self._parse()

    async def _parse(self) -> AsyncIterator[MultipartSegment | bytes | None]:
        try:
            with PushMultipartParser(self._boundary, max_segment_count=MAX_PARTS) as parser:
                async for chunk in self._chunks:
                    for event in parser.parse(chunk):
                        yield event
                    if parser.closed:
                        return
                for event in parser.parse(b""):
                    yield event
        except ParserLimitReached:
            raise PayloadTooLarge(f"more than {MAX_PARTS} parts") from None
        except MultipartError as exc:
            raise BadRequest(f"invalid multipart body: {exc}", code="invalid_multipart") from None

    async def parts(self) -> AsyncIterator[MultipartSegment]:
        """Each part's headers, in order (read or skip its body before asking for the next)."""
        async for event in self._events:
            if isinstance(event, MultipartSegment):
                yield event

    async def body(self) -> AsyncIterator[bytes]:
        """The body of the current part, chunk by chunk."""
        async for event in self._events:
            if event is None:
                return
            if not isinstance(event, MultipartSegment):
                yield bytes(event)


def boundary_of(content_type: str) -> str:
    """The boundary of a `multipart/form-data` Content-Type, or 400."""
    kind, _, options = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise BadRequest("expected a multipart/form-data body", code="invalid_multipart")
    for option in options.split(";"):
        name, _, value = option.strip().partition("=")
        if name.lower() == "boundary" and value:
            return value.strip('"')
    raise BadRequest("the multipart body has no boundary", code="invalid_multipart")

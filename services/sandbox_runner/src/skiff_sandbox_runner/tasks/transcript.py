"""A task's output kept for its `sandbox.task.completed` event: bounded per stream."""

from __future__ import annotations

import codecs

from skiff_sandbox_runner.backends.base import StreamName


class Transcript:
    """The first `limit` bytes of stdout and of stderr; `truncated` once either overflowed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kept: dict[StreamName, bytearray] = {"stdout": bytearray(), "stderr": bytearray()}
        self.truncated = False

    def add(self, stream: StreamName, data: bytes) -> None:
        kept = self._kept[stream]
        room = self.limit - len(kept)
        if len(data) > room:
            self.truncated = True
        if room > 0:
            kept.extend(data[:room])

    def text(self, stream: StreamName) -> str:
        """The kept bytes as text (a character cut at the limit is replaced, not an error)."""
        return bytes(self._kept[stream]).decode(errors="replace")


class ChunkDecoder:
    """Bytes to text per stream, never splitting a UTF-8 character across two live chunks."""

    def __init__(self) -> None:
        self._decoders = {
            "stdout": codecs.getincrementaldecoder("utf-8")(errors="replace"),
            "stderr": codecs.getincrementaldecoder("utf-8")(errors="replace"),
        }

    def decode(self, stream: StreamName, data: bytes) -> str:
        return self._decoders[stream].decode(data)

    def flush(self, stream: StreamName) -> str:
        return self._decoders[stream].decode(b"", final=True)

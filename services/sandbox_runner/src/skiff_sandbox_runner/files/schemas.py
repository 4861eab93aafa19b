"""Bodies of the file routes."""

from __future__ import annotations

import msgspec

from skiff_sandbox_runner.workspace import Entry


class FileListing(msgspec.Struct, frozen=True, kw_only=True):
    """A directory's entries (or a tree's, cut at the entry limit with `truncated`).

    `data` like every list of the API (a listing is bounded, not paged: no `next_cursor`).
    """

    path: str
    data: list[Entry]
    truncated: bool


class Uploaded(msgspec.Struct, frozen=True, kw_only=True):
    """The files a multipart upload wrote."""

    data: list[Entry]

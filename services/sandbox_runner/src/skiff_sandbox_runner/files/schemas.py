"""Bodies of the file routes."""

from __future__ import annotations

import msgspec

from skiff_sandbox_runner.workspace import Entry


class FileListing(msgspec.Struct, frozen=True, kw_only=True):
    """A directory's entries (or a tree's, cut at the entry limit with `truncated`)."""

    path: str
    entries: list[Entry]
    truncated: bool


class Uploaded(msgspec.Struct, frozen=True, kw_only=True):
    """The files a multipart upload wrote."""

    entries: list[Entry]

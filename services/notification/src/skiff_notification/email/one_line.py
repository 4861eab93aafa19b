"""Customer words (an organization's or an app's name) made safe for a subject line."""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")


def one_line(text: str, limit: int) -> str:
    """`text` on one line (every run of whitespace, line breaks included, one space), cut to
    `limit` characters with an ellipsis: a subject never carries a line break (no header can
    be injected, and the SMTP library would refuse the message) and fits its column."""
    line = _SPACES.sub(" ", text).strip()
    if len(line) <= limit:
        return line
    return line[: limit - 1].rstrip() + "\u2026"

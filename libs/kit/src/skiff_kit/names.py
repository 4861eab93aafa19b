"""Names people type (theirs, an organization's, an API key's...): printable, on one line.

A name is shown in the dashboard, in lists, in email subjects and in log lines. A line break
or another control character in one can break a header or forge a line, so it is refused
with the field's validation error (in these words: `NOT_PRINTABLE`) rather than stored.
"""

from __future__ import annotations

import re

import msgspec

# No C0 control character (line breaks and tabs included) and no DEL. (Python's `$` also
# matches before one final line break: services trim a name's surrounding whitespace.)
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
NOT_PRINTABLE = "must not contain control characters such as line breaks or tabs"
# How msgspec words a string that does not match PRINTABLE.
NOT_PRINTABLE_MSGSPEC = f"Expected `str` matching regex {PRINTABLE!r}"


def name_rules(max_length: int) -> msgspec.Meta:
    """What a name field accepts: 1 to `max_length` characters, no control characters
    (`Annotated[str, name_rules(200)]`)."""
    return msgspec.Meta(
        min_length=1,
        max_length=max_length,
        pattern=PRINTABLE,
        description=f"1 to {max_length} characters, no control characters.",
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def printable(text: str) -> str:
    """`text` on one line: each run of control characters becomes one space (for names that
    come from elsewhere, such as an OAuth provider's profile, which cannot be refused)."""
    return _CONTROL.sub(" ", text)

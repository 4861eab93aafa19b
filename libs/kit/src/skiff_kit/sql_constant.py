"""A value written into a statement's text, where a generic plan must see it."""

from __future__ import annotations

import re

from sqlalchemy import ColumnClause, literal_column

_PLAIN = re.compile(r"[a-z_]+")


def constant(value: str) -> ColumnClause[str]:
    """`value` as a SQL literal, not a bound parameter. A generic plan (what PostgreSQL keeps
    from a statement's sixth run) can then prove the statement matches a partial index's
    predicate (`status = 'pending'`), which a parameter, being any value, never does, and
    estimate from that value's own share of the table (a rare status) rather than an average
    one. For the code's own status words only: anything else is refused."""
    if not _PLAIN.fullmatch(value):
        raise ValueError(f"not a plain constant: {value!r}")
    return literal_column(f"'{value}'")

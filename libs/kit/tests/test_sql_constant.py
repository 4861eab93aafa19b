"""`constant` writes the code's own status words into a statement, and nothing else."""

from __future__ import annotations

import pytest
from skiff_kit.sql_constant import constant
from sqlalchemy import column, select
from sqlalchemy.dialects import postgresql


def test_a_status_word_is_written_into_the_statement() -> None:
    query = select(column("id")).where(column("status") == constant("pending"))
    sql = str(query.compile(dialect=postgresql.dialect()))
    assert "status = 'pending'" in sql
    assert "%(" not in sql  # no bound parameter


@pytest.mark.parametrize("value", ["x' OR '1'='1", "", "Pending", "a b", "queued;"])
def test_anything_but_a_plain_word_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a plain constant"):
        constant(value)

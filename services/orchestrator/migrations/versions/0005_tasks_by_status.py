"""A session's tasks of one status read a page of that status, in order.

Why: a session's tasks of a status (`GET /api/v1/sessions/{id}/tasks?status=`, and the unfinished
ones failed when the session ends) had `(session_id, id)`, which walks every task of the session
and filters (a busy one's 3 000 for a page of its few failed), and `(status)`, which finds that
status in every session. `(status, session_id, id)` gives them newest first, and still leads
with `status` for the reaper's `queued` tasks: it replaces `(status)`.

Writers: a task's status changes once or twice (queued, running, final; queued to cancelled or
failed), and each change already wrote a new entry in every index, `(status)` among them: no new
index writes, and no update becomes non-HOT (`session_id` and `id` never change). The entries are
larger: `(status)` deduplicated to a few posting lists (0.7 MB at 100 000 tasks), the new index
is about the size of `(session_id, id)` (13-14 MB there).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_tasks_status"


def _index(columns: list[str]) -> None:
    op.drop_index(NAME, table_name="tasks")
    op.create_index(NAME, "tasks", columns)


def upgrade() -> None:
    _index(["status", "session_id", "id"])


def downgrade() -> None:
    _index(["status"])

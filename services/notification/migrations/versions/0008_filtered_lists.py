"""An endpoint's deliveries by status and a user's notifications by type read their own page.

Why, webhook messages: `GET /api/v1/webhooks/{id}/deliveries?status=` walked `(endpoint_id, id)`
(or the primary key) and threw away the other statuses: a page of `failed` for an endpoint that
mostly succeeds read its whole log. `(endpoint_id, status, id)` seeks to the status and reads it
newest first. It is one full index, not a partial one per status: the status is a bind
parameter, and a generic plan (production's from a statement's sixth run) cannot match a
parameter to a partial index's predicate. The partial "due" indexes (`status = 'pending'`) are
keyed by `next_attempt_at` for the claims and give no status's messages in id order; the claim
and the outcome writer's "anyone waiting?" keep their plans (compared before and after). The old
`(endpoint_id, id)` stays: the unfiltered log orders by id across statuses, which the new index
gives only by sorting the endpoint's whole log. Parking an endpoint's pending messages (a bound
status too) now seeks with it instead of reading the endpoint's every message.

Why, notifications: `GET /api/v1/notifications?type=` walked `(organization_id, user_id, id)`
and threw away the other types; with `?read=false` it read every unread notification of the
user and sorted them. `(organization_id, user_id, type, id)` reads one type newest first. It
cannot serve `?type=&read=false` alone: a generic plan reads every notification of the type,
read ones too, and sorts them (3 000 rows for a page of 51 in tests/inbox/test_read_paths.py,
worse than the 1 560 unread it read before). The same columns over the unread ones
(`read_at IS NULL`) read that page and nothing else. `?type=&read=true` reads the type's
notifications: narrower than before (the user's every one), not a page.

Cost: every webhook message written, and each of a send's two rewrites of it (they change
`next_attempt_at` and `status`, both indexed, so neither is a HOT update), writes one more index
entry. Every notification is written unread, so into both new indexes: two more entries per
notification, 2-4 µs each in a bulk-insert probe (mark-read writes one: the full index).
Each list's cost becomes a page, not the history.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_webhook_messages_endpoint_status",
        "webhook_messages",
        ["endpoint_id", "status", "id"],
    )
    op.create_index(
        "ix_notifications_type", "notifications", ["organization_id", "user_id", "type", "id"]
    )
    op.create_index(
        "ix_notifications_unread_type",
        "notifications",
        ["organization_id", "user_id", "type", "id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_unread_type", table_name="notifications")
    op.drop_index("ix_notifications_type", table_name="notifications")
    op.drop_index("ix_webhook_messages_endpoint_status", table_name="webhook_messages")

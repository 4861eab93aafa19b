"""The ledger's lists read a page, not the organization's whole ledger, however large it grows.

Why: the ledger had one listing index, `(organization_id, id)`. On an organization with a
million entries (measured, 120 days of usage charges):

- the usage export (oldest first by `(created_at, id)`) sorted every entry of its window for
  each page of 500: 160 ms a page, so an export of the window took minutes;
- `GET /credits/transactions?type=` read every entry of the organization when the type was
  rare or absent (157 ms for none), and `?start=&end=` read every newer entry before the
  window (50 ms for a week 60 days back).

Now the export reads `ix_ledger_entries_created` `(organization_id, created_at, id)` in order,
and the transactions list, newest first by `(created_at, id)` (ids sort by creation time, so
the order people see is the same), reads the same index backwards, or
`ix_ledger_entries_type_created` `(organization_id, type, created_at, id)` when a type is
asked: each page reads its own rows and the next one, whatever the filter.

They replace `(organization_id, id)`, which nothing reads any more, and `(account_id)`, which
nothing ever read (accounts are never deleted, so the foreign key needs no index either): an
entry still costs the same four index insertions. The unique `(organization_id, reference)`
constraint is rebuilt after them, so it stays the last index made: on a nearly empty table a
lookup by reference costs the same on every index that starts with `organization_id`, the
tie goes to the index made last, and a plan kept from then must probe the unique index, not
filter the organization's entries (0007; tests/ledger/test_lookup_plans.py).

On a large existing ledger the upgrade builds three indexes while writes to the ledger wait.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "ledger_entries"
REFERENCE = ("uq_ledger_entries_reference", "organization_id, reference")
# (name, columns): what 0001 made, and what replaces it.
BEFORE = (
    ("ix_ledger_entries_account_id", ["account_id"]),
    ("ix_ledger_entries_organization_id", ["organization_id", "id"]),
)
AFTER = (
    ("ix_ledger_entries_created", ["organization_id", "created_at", "id"]),
    ("ix_ledger_entries_type_created", ["organization_id", "type", "created_at", "id"]),
)


def _rebuild_reference() -> None:
    name, columns = REFERENCE
    op.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}")
    op.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} UNIQUE ({columns})")


def _swap(drop: Sequence[tuple[str, list[str]]], create: Sequence[tuple[str, list[str]]]) -> None:
    for name, _columns in drop:
        op.drop_index(name, table_name=TABLE)
    for name, columns in create:
        op.create_index(name, TABLE, columns)
    _rebuild_reference()


def upgrade() -> None:
    _swap(BEFORE, AFTER)


def downgrade() -> None:
    _swap(AFTER, BEFORE)

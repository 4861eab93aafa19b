"""Alembic environment of the `billing` schema (run by `python -m skiff_billing migrate`)."""

from skiff_kit.migrations import run_migrations_online

run_migrations_online(schema="billing")

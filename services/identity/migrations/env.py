"""Alembic environment of the `identity` schema (run by `python -m skiff_identity migrate`)."""

from skiff_kit.migrations import run_migrations_online

run_migrations_online(schema="identity")

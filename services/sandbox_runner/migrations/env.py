"""Alembic environment of the `sandbox` schema (run by `python -m skiff_sandbox_runner migrate`)."""

from skiff_kit.migrations import run_migrations_online

run_migrations_online(schema="sandbox")

"""Alembic environment of the `orchestrator` schema (`python -m skiff_orchestrator migrate`)."""

from skiff_kit.migrations import run_migrations_online

run_migrations_online(schema="orchestrator")

"""Alembic environment of the `notification` schema (`python -m skiff_notification migrate`)."""

from skiff_kit.migrations import run_migrations_online

run_migrations_online(schema="notification")

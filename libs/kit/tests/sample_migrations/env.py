"""Alembic environment of the kit's test migrations (schema given by `upgrade`)."""

from skiff_kit.migrations import run_migrations_online

run_migrations_online(schema="kit_sample")

"""Sandbox sessions: their records, statuses and public routes."""

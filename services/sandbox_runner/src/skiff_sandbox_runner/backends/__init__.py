"""Sandbox backends: `docker` (hardened containers) and `local` (subprocesses, no isolation)."""

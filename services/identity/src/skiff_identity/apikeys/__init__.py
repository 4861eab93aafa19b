"""API keys: created, listed masked, rotated, rolled, revoked, and their per-day usage."""

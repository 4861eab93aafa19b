"""Two-phase holds (reserve → capture all or part, or release; expiry releases)."""

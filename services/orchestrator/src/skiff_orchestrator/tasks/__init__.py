"""Tasks: commands run in a session, their records and routes."""

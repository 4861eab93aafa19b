"""Tasks: commands run in a session's sandbox, their live output and their outcome."""

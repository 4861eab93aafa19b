"""File routes of a session's workspace, served by the runner that holds the session."""

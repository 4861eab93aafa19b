"""Organizations, their members with roles, and invites by email."""

"""In-app notifications: what a user is told, and whether they read it."""

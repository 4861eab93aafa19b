"""Account security: email verification, password reset, login throttling and locks."""

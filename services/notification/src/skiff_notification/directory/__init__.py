"""Who belongs to which organization, with which role and email: fed by identity's events."""

"""Sign-up, sign-in and the signed-in user."""

"""Telling an organization's owners something, in the app and by email, as they prefer."""

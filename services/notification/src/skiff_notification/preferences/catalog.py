"""The categories and channels a user can switch, and the emails no switch turns off."""

from __future__ import annotations

CATEGORIES: tuple[str, ...] = (
    "account",
    "billing",
    "sessions",
    "deployments",
    "runs",
    "workflows",
    "webhooks",
)
CHANNELS: tuple[str, ...] = ("in_app", "email")
# Sent whatever the preferences say: they protect the account itself.
SECURITY_EMAILS: tuple[str, ...] = ("email_verification", "password_reset", "new_sign_in_method")

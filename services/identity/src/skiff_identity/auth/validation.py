"""What a sign-up must satisfy, checked together so that one 400 lists every problem."""

from __future__ import annotations

import re

from skiff_kit.errors import ValidationFailed

from skiff_identity.auth.passwords import password_problems
from skiff_identity.auth.schemas import RegisterRequest

# Deliberately loose: one @, no spaces, a dot in the domain. The verification email is the
# real test of an address; this only catches typos and obvious garbage.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_email(email: str) -> str:
    """The form an email is stored and looked up in: trimmed, lower case."""
    return email.strip().lower()


def email_problems(email: str) -> list[str]:
    """Why `email` (normalized) cannot be an account's address (empty when it can)."""
    return [] if _EMAIL.fullmatch(email) else ["must be an email address"]


def check_registration(body: RegisterRequest) -> str:
    """The normalized email of a valid sign-up; else ValidationFailed listing every field."""
    email = normalize_email(body.email)
    problems = [("email", message) for message in email_problems(email)]
    problems += [("password", message) for message in password_problems(body.password, email=email)]
    if not body.name.strip():
        problems.append(("name", "must not be blank"))
    if body.organization_name is not None and not body.organization_name.strip():
        problems.append(("organization_name", "must not be blank"))
    if problems:
        listed = ", ".join(f"{field} {message}" for field, message in problems)
        raise ValidationFailed(
            f"Validation failed: {listed}",
            details={"fields": [{"field": field, "message": text} for field, text in problems]},
        )
    return email

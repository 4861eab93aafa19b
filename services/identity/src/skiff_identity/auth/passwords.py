"""argon2id password hashing and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10


class Passwords:
    """Hash and check passwords with argon2id; costs come from settings."""

    def __init__(self, *, time_cost: int, memory_cost_kib: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1
        )
        # A real hash to verify against when the account does not exist, so a missing
        # account takes as long as a wrong password (no user enumeration by timing).
        self._decoy = self._hasher.hash("decoy-password-never-used")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False


def password_problems(password: str, *, email: str) -> list[str]:
    """Every rule of the password policy that `password` breaks (empty when it is fine)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if password.isalpha() or password.isdigit():
        problems.append("must mix letters with digits or symbols")
    if password.strip().lower() == email.strip().lower():
        problems.append("must not be your email address")
    return problems

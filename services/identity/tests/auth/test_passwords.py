"""argon2id hashing with the configured costs, and the password policy."""

from __future__ import annotations

import pytest
from skiff_identity.auth.passwords import MIN_LENGTH, Passwords, password_problems


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(time_cost=1, memory_cost_kib=8192)


def test_a_hash_is_argon2id_with_the_configured_costs(passwords: Passwords) -> None:
    hashed = passwords.hash("correct-horse-42")

    assert hashed.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert "correct-horse-42" not in hashed
    assert passwords.hash("correct-horse-42") != hashed  # salted


def test_verify_accepts_only_the_right_password(passwords: Passwords) -> None:
    hashed = passwords.hash("correct-horse-42")

    assert passwords.verify(hashed, "correct-horse-42") is True
    assert passwords.verify(hashed, "correct-horse-43") is False
    assert passwords.verify(hashed, "") is False


def test_verify_without_an_account_is_false_even_for_the_decoy(passwords: Passwords) -> None:
    assert passwords.verify(None, "decoy-password-never-used") is False
    assert passwords.verify(None, "anything") is False


def test_verify_of_a_broken_hash_is_false(passwords: Passwords) -> None:
    assert passwords.verify("not-a-hash", "correct-horse-42") is False


def test_verify_checks_hashes_made_with_other_costs(passwords: Passwords) -> None:
    older = Passwords(time_cost=2, memory_cost_kib=16384).hash("correct-horse-42")

    assert passwords.verify(older, "correct-horse-42") is True


@pytest.mark.parametrize(
    "password", ["correct-horse-42", "letters and spaces", "!!!!!!!!!!", "Zz9" * 4, "é" * 9 + "1"]
)
def test_a_good_password_breaks_no_rule(password: str) -> None:
    assert password_problems(password, email="ada@example.com") == []


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("a1" * 4 + "a", [f"must be at least {MIN_LENGTH} characters long"]),
        ("abcdefghijkl", ["must mix letters with digits or symbols"]),
        ("123456789012", ["must mix letters with digits or symbols"]),
        (
            "abcdef",
            [
                f"must be at least {MIN_LENGTH} characters long",
                "must mix letters with digits or symbols",
            ],
        ),
        (" Ada@Example.com ", ["must not be your email address"]),
    ],
)
def test_each_broken_rule_is_named(password: str, problems: list[str]) -> None:
    assert password_problems(password, email="ada@example.com") == problems

"""A sign-up is checked as a whole: every bad field is named, in words a person understands."""

from __future__ import annotations

import pytest
from skiff_identity.auth.schemas import RegisterRequest
from skiff_identity.auth.validation import check_registration, email_problems, normalize_email
from skiff_kit.errors import ValidationFailed


def test_an_email_is_normalized_for_storage_and_lookup() -> None:
    assert normalize_email("  Ada.Lovelace@Example.COM\n") == "ada.lovelace@example.com"


@pytest.mark.parametrize(
    "email", ["ada@example.com", "ada+tag@sub.example.co.uk", "o'brien@example.ie"]
)
def test_plausible_addresses_pass(email: str) -> None:
    assert email_problems(email) == []


@pytest.mark.parametrize(
    "email", ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@b@c.io"]
)
def test_implausible_addresses_are_named(email: str) -> None:
    assert email_problems(email) == ["must be an email address"]


def test_a_valid_sign_up_gives_the_normalized_email() -> None:
    body = RegisterRequest(email=" Ada@Example.com ", password="correct-horse-42", name="Ada")

    assert check_registration(body) == "ada@example.com"


def test_every_problem_of_a_sign_up_is_in_one_error() -> None:
    body = RegisterRequest(email="ada", password="ada", name=" ", organization_name="")

    with pytest.raises(ValidationFailed) as raised:
        check_registration(body)

    assert raised.value.status_code == 400
    assert raised.value.details == {
        "fields": [
            {"field": "email", "message": "must be an email address"},
            {"field": "password", "message": "must be at least 10 characters long"},
            {"field": "password", "message": "must mix letters with digits or symbols"},
            {"field": "password", "message": "must not be your email address"},
            {"field": "name", "message": "must not be blank"},
            {"field": "organization_name", "message": "must not be blank"},
        ]
    }
    assert raised.value.message == (
        "Validation failed: email must be an email address, password must be at least 10 "
        "characters long, password must mix letters with digits or symbols, password must not "
        "be your email address, name must not be blank, organization_name must not be blank"
    )

"""A `SKIFF_*` variable nothing reads is named, with the known name it was probably meant as."""

from __future__ import annotations

import json
from importlib import resources

from skiff_kit.settings import ServiceSettings
from skiff_kit.unknown_settings import (
    UnknownVariable,
    known_names,
    unknown_variables,
)


class GreeterSettings(ServiceSettings, kw_only=True):
    """A service with one field of its own."""

    greeting: str = "hello"


KNOWN_ELSEWHERE = {"SKIFF_SMTP_HOST", "SKIFF_RATELIMIT_KEY_PER_MINUTE"}


def unknown(environ: dict[str, str]) -> list[UnknownVariable]:
    return unknown_variables(environ, GreeterSettings, known=KNOWN_ELSEWHERE)


def test_own_fields_shared_fields_and_known_variables_pass() -> None:
    environ = {
        "SKIFF_GREETING": "ahoy",  # this service's own
        "SKIFF_PORT": "8000",  # shared by every service
        "SKIFF_SMTP_HOST": "mail",  # another service's: a shared .env must not warn
        "PATH": "/bin",  # not ours at all
    }
    assert unknown(environ) == []


def test_a_misspelling_is_named_with_the_closest_known_name() -> None:
    environ = {
        "SKIFF_GRETING": "ahoy",
        "SKIFF_SMTP_HOTS": "mail",
        "SKIFF_RATELIMIT_KEY_PER_MINUTES": "5",
    }
    assert unknown(environ) == [
        UnknownVariable("SKIFF_GRETING", "SKIFF_GREETING"),
        UnknownVariable("SKIFF_RATELIMIT_KEY_PER_MINUTES", "SKIFF_RATELIMIT_KEY_PER_MINUTE"),
        UnknownVariable("SKIFF_SMTP_HOTS", "SKIFF_SMTP_HOST"),
    ]


def test_a_name_like_nothing_gets_no_hint() -> None:
    # Every name starts with SKIFF_; compared whole, any two would look alike.
    assert unknown({"SKIFF_ZEBRA": "1"}) == [UnknownVariable("SKIFF_ZEBRA", None)]


def test_the_wrong_case_is_named_too() -> None:
    # Variables are case-sensitive: `skiff_port` sets nothing.
    assert unknown({"skiff_port": "9000"}) == [UnknownVariable("skiff_port", "SKIFF_PORT")]


def test_the_packaged_list_is_what_the_kit_reads_at_run_time() -> None:
    packaged = json.loads(resources.files("skiff_kit").joinpath("known_settings.json").read_text())
    assert known_names() == frozenset(packaged["names"])
    # Another service's setting is known to a service that has no such field.
    assert "SKIFF_INVITE_TTL_DAYS" in known_names()
    assert unknown_variables({"SKIFF_INVITE_TTL_DAYS": "7"}, GreeterSettings) == []
    assert unknown_variables({"SKIFF_INVITE_TTL_DAY": "7"}, GreeterSettings) == [
        UnknownVariable("SKIFF_INVITE_TTL_DAY", "SKIFF_INVITE_TTL_DAYS")
    ]

"""Settings come from SKIFF_* variables, typed, with every bad variable named."""

from __future__ import annotations

import pytest
from skiff_kit.settings import ServiceSettings, SettingsError, load_settings


class BillingLikeSettings(ServiceSettings, kw_only=True):
    """A service's own settings on top of the kit's."""

    stripe_secret: str
    minimum_credits: int = 1000
    debug_features: bool = False
    allowed_origins: list[str] = []


def test_defaults_when_nothing_is_set() -> None:
    settings = load_settings(ServiceSettings, environ={})
    assert settings == ServiceSettings()
    assert settings.port == 8000
    assert settings.private_port is None
    assert settings.log_format == "json"


def test_reads_and_converts_every_field() -> None:
    settings = load_settings(
        ServiceSettings,
        environ={
            "SKIFF_SERVICE_NAME": "billing",
            "SKIFF_PORT": "8082",
            "SKIFF_PRIVATE_PORT": "9182",
            "SKIFF_DATABASE_URL": "postgresql+asyncpg://u:p@h/db",
            "SKIFF_LOG_FORMAT": "console",
            "SKIFF_OTEL_EXPORTER": "otlp",
            "UNRELATED": "x",
        },
    )
    assert settings.service_name == "billing"
    assert settings.port == 8082
    assert settings.private_port == 9182
    assert settings.database_url == "postgresql+asyncpg://u:p@h/db"
    assert settings.log_format == "console"
    assert settings.otel_exporter == "otlp"


def test_subclass_fields_including_required_bool_and_json_list() -> None:
    settings = load_settings(
        BillingLikeSettings,
        environ={
            "SKIFF_STRIPE_SECRET": "sk_test_1",
            "SKIFF_MINIMUM_CREDITS": "500",
            "SKIFF_DEBUG_FEATURES": "true",
            "SKIFF_ALLOWED_ORIGINS": '["https://a.example", "https://b.example"]',
        },
    )
    assert settings.stripe_secret == "sk_test_1"
    assert settings.minimum_credits == 500
    assert settings.debug_features is True
    assert settings.allowed_origins == ["https://a.example", "https://b.example"]


def test_every_bad_variable_is_listed_without_its_value() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            BillingLikeSettings,
            environ={
                "SKIFF_PORT": "eighty",
                "SKIFF_LOG_FORMAT": "xml",
                "SKIFF_PRIVATE_PORT": "70000",
            },
        )
    problems = caught.value.problems
    assert set(problems) == {
        "SKIFF_PORT",
        "SKIFF_LOG_FORMAT",
        "SKIFF_PRIVATE_PORT",
        "SKIFF_STRIPE_SECRET",
    }
    assert problems["SKIFF_STRIPE_SECRET"] == "is required"
    message = str(caught.value)
    assert "SKIFF_PORT" in message
    assert "SKIFF_LOG_FORMAT" in message
    assert "eighty" not in message


def test_empty_variable_means_unset_except_for_strings() -> None:
    settings = load_settings(
        ServiceSettings,
        environ={"SKIFF_PRIVATE_PORT": "", "SKIFF_PORT": " ", "SKIFF_INTERNAL_PUBLIC_KEYS": ""},
    )
    assert settings.private_port is None
    assert settings.port == 8000
    assert settings.internal_public_keys == ""


def test_other_prefix() -> None:
    settings = load_settings(ServiceSettings, environ={"X_PORT": "1234"}, prefix="X_")
    assert settings.port == 1234

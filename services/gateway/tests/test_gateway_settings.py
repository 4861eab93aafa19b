"""A bad gateway setting stops it at start, naming the variable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from skiff_gateway.app import create
from skiff_gateway.settings import GatewaySettings
from skiff_kit.settings import SettingsError


@pytest.mark.parametrize(
    ("setting", "value", "variable"),
    [
        ("trusted_proxies", "10.0.0.0/8, the-load-balancer", "SKIFF_TRUSTED_PROXIES"),
        ("ratelimit_organizations", '{"org_1": "lots"}', "SKIFF_RATELIMIT_ORGANIZATIONS"),
        ("ratelimit_routes", '[{"limit": 5}]', "SKIFF_RATELIMIT_ROUTES"),
        (
            "ratelimit_routes",
            '[{"prefix": "/x", "limit": 5, "name": "Bad Name"}]',
            "SKIFF_RATELIMIT_ROUTES",
        ),
        ("upstreams", '{"identity": "ftp://example"}', "SKIFF_UPSTREAMS"),
    ],
)
def test_a_bad_value_names_its_variable(
    gateway_settings: Callable[..., GatewaySettings], setting: str, value: str, variable: str
) -> None:
    with pytest.raises(SettingsError) as error:
        create(gateway_settings(**{setting: value}))

    assert variable in error.value.problems

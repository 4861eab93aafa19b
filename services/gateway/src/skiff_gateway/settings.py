"""The gateway's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import ServiceSettings


class GatewaySettings(ServiceSettings, kw_only=True):
    service_name: str = "gateway"
    port: int = 8080
    # JSON {"identity": "http://127.0.0.1:8081", ...}: where each service listens.
    upstreams: str = "{}"
    # JSON {kid: public PEM} of identity's access-token keys.
    access_token_public_keys: str = "{}"
    upstream_connect_timeout_seconds: float = 2.0
    upstream_timeout_seconds: float = 30.0

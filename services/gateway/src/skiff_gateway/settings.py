"""The gateway's settings, from SKIFF_* environment variables."""

from __future__ import annotations

from skiff_kit.settings import Positive, ServiceSettings


class GatewaySettings(ServiceSettings, kw_only=True):
    service_name: str = "gateway"
    port: int = 8080
    # JSON {"identity": "http://127.0.0.1:8081", ...}: where each service listens.
    upstreams: str = "{}"
    # JSON {kid: public PEM} of identity's access-token keys.
    access_token_public_keys: str = "{}"
    upstream_connect_timeout_seconds: float = 2.0
    upstream_timeout_seconds: float = 30.0
    internal_token_ttl_seconds: Positive = 60  # the signed principal's lifetime
    # The public edge is stricter than the services behind it (docs/gateway.md, HTTP limits).
    http_max_header_count: Positive = 100
    http_max_header_bytes: Positive = 8 * 1024
    http_max_head_bytes: Positive = 32 * 1024
    # Routing details (docs/gateway.md): request bodies, CORS, client addresses.
    max_body_bytes: int = 100 * 1024 * 1024
    cors_allowed_origins: str = ""  # comma-separated origins, e.g. https://app.example.com
    cors_max_age_seconds: int = 600
    trusted_proxies: str = ""  # comma-separated CIDRs whose X-Forwarded-For is believed
    # Rate limits (docs/gateway.md): every default can be raised for a load test or a demo.
    ratelimit_enabled: bool = True
    ratelimit_key_per_minute: int = 100
    ratelimit_key_burst: int = 20
    ratelimit_user_per_hour: int = 1000
    ratelimit_anonymous_per_hour: int = 100
    ratelimit_webhooks_per_minute: int = 600
    ratelimit_organizations: str = "{}"  # JSON {org_id: multiplier}: plan limits
    ratelimit_routes: str = "[]"  # JSON [{prefix, limit, window_seconds?, methods?, name?}]
    ratelimit_shared: bool = True  # share counters through NATS (false: per replica)
    ratelimit_bucket: str = "skiff_ratelimit"
    ratelimit_max_lease: int = 100
    ratelimit_store_timeout_seconds: float = 0.5
    # For NATS at start (also the idempotency records); limits are local until it is up.
    ratelimit_start_wait_seconds: float = 5.0
    # Idempotency-Key on POST (docs/gateway.md): first answers kept in a shared NATS KV bucket.
    idempotency_bucket: str = "skiff_gateway_idempotency"
    idempotency_ttl_seconds: float = 24 * 3600.0  # how long a key is remembered
    idempotency_max_body_bytes: int = 1024 * 1024  # a keyed request's body is read whole
    idempotency_max_answer_bytes: int = 512 * 1024  # larger answers are not kept for a replay
    idempotency_store_timeout_seconds: float = 2.0
    # The merged OpenAPI document and the docs page.
    openapi_cache_seconds: float = 60.0
    openapi_retry_seconds: float = 5.0
    docs_script_url: str = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1"
    deep_health_optional: str = "sandbox_runner"  # comma-separated: down does not mean 503
    # The API key directory (docs/gateway.md): a NATS KV bucket every replica loads and follows.
    directory_bucket: str = "skiff_gateway_directory"
    directory_start_timeout_seconds: float = 10.0  # then serve; API keys 503 until loaded
    # A key the view has not heard of yet is asked of identity (directory/lookup.py): bounded.
    key_lookup_per_second: float = 20.0  # per replica; beyond it a miss is refused unasked
    key_lookup_negative_seconds: float = 10.0  # an unknown key is not asked about again
    key_lookup_timeout_seconds: float = 0.5
    replica_id: str = ""  # names this replica's usage reports; random when empty
    usage_report_seconds: float = 5.0

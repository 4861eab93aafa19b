"""The gateway's settings, from SKIFF_* environment variables (docs/settings.md lists them)."""

from __future__ import annotations

from skiff_kit.settings import Port, Positive, ServiceSettings


class GatewaySettings(ServiceSettings, kw_only=True):
    """The gateway's own settings, on top of the ones every service reads."""

    service_name: str = "gateway"
    """The service's name in logs, traces and probes."""
    port: Port = 8080
    """The public port: the one address clients use."""
    upstreams: str = "{}"
    """JSON `{service: base URL}`, e.g. `{"identity": "http://127.0.0.1:8081", ...}`: where
    each service listens."""
    access_token_public_keys: str = "{}"
    """JSON `{kid: PEM}`: identity's Ed25519 public keys that sign users' access tokens."""
    upstream_connect_timeout_seconds: float = 2.0
    """Seconds to connect to a service (504 past it, 503 when refused); also the first
    connection to NATS for session placements."""
    upstream_timeout_seconds: float = 30.0
    """Seconds a service may take for its answer's head or each next chunk; 504
    `gateway_timeout` past it."""
    internal_token_ttl_seconds: Positive = 60
    """Lifetime, in seconds, of the internal token signed per request (a service judges it
    at the moment the request arrived, so a slow body is not refused)."""
    # The public edge is stricter than the services behind it (docs/gateway.md, HTTP limits).
    http_max_header_count: Positive = 100
    """Headers per request at the public edge; more is 431 `request_header_fields_too_large`."""
    http_max_header_bytes: Positive = 8 * 1024
    """Bytes of one header (name + value), and of the request target (414 `uri_too_long`), at
    the public edge."""
    http_max_head_bytes: Positive = 32 * 1024
    """Bytes of the request target and every header together at the public edge; more is 431."""
    # Routing details (docs/gateway.md): request bodies, CORS, client addresses.
    max_body_bytes: int = 100 * 1024 * 1024
    """Largest request body in bytes; larger is 413 `payload_too_large` (by `Content-Length`,
    or counted while it streams)."""
    cors_allowed_origins: str = ""
    """Comma-separated origins (`https://app.example.com`) that may call the API from a
    browser, with credentials; `*` lets any origin read answers, never with credentials.
    Empty: no CORS headers."""
    cors_max_age_seconds: int = 600
    """How long, in seconds, a browser may cache a preflight answer."""
    trusted_proxies: str = ""
    """Comma-separated CIDRs (or a JSON list) of proxies whose `X-Forwarded-For` is believed;
    the client is the right-most address that is not one of them. Empty: the socket peer."""
    # Rate limits (docs/gateway.md): every default can be raised for a load test or a demo.
    ratelimit_enabled: bool = True
    """`false` turns rate limits and their headers off."""
    ratelimit_key_per_minute: int = 100
    """Requests per API key per minute (a key's own `rate_limit` replaces it)."""
    ratelimit_key_burst: int = 20
    """Extra requests an API key may make on top of its per-minute limit."""
    ratelimit_user_per_hour: int = 1000
    """Requests per signed-in user per hour."""
    ratelimit_anonymous_per_hour: int = 100
    """Requests per client address per hour on anonymous routes (and failed sign-ins)."""
    ratelimit_webhooks_per_minute: int = 600
    """Requests per client address per minute on `/webhooks/*`."""
    ratelimit_organizations: str = "{}"
    """JSON `{org_id: multiplier}` applied to the key and user limits of those organizations
    (plans), e.g. `{"org_big": 10, "org_trial": 0.5}`."""
    ratelimit_routes: str = "[]"
    """JSON `[{"prefix", "limit", "window_seconds"?, "methods"?, "name"?}]`: extra limits per
    caller on matching routes."""
    ratelimit_shared: bool = True
    """Share counters between replicas through NATS KV; `false`: each replica limits alone."""
    ratelimit_bucket: str = "skiff_ratelimit"
    """The NATS KV bucket of the shared counters."""
    ratelimit_max_lease: int = 100
    """Most tokens a replica leases at once (never more than a tenth of a limit)."""
    ratelimit_store_timeout_seconds: float = 0.5
    """Seconds one lease may take from NATS; past it the replica limits on its own (fails
    open)."""
    # For NATS at start (also the idempotency records); limits are local until it is up.
    ratelimit_start_wait_seconds: float = 5.0
    """Seconds a starting replica waits for NATS (rate limits and idempotency records) before
    serving with local limits."""
    # Idempotency-Key on POST (docs/gateway.md): first answers kept in a shared NATS KV bucket.
    idempotency_bucket: str = "skiff_gateway_idempotency"
    """The NATS KV bucket (file storage) of `Idempotency-Key` records."""
    idempotency_ttl_seconds: float = 24 * 3600.0
    """How long, in seconds, an `Idempotency-Key` is remembered after its last write."""
    idempotency_max_body_bytes: int = 1024 * 1024
    """Largest body of a request with an `Idempotency-Key`, in bytes (it is read whole); larger
    is 413."""
    idempotency_max_answer_bytes: int = 512 * 1024
    """Largest answer body kept for a replay, in bytes; a larger one is sent but not kept (the
    key then answers 409 `idempotency_key_used`)."""
    idempotency_store_timeout_seconds: float = 2.0
    """Seconds each operation on the idempotency bucket may take; past it a keyed request is
    503."""
    # The merged OpenAPI document and the docs page.
    openapi_cache_seconds: float = 60.0
    """How long, in seconds, the merged OpenAPI document is kept."""
    openapi_retry_seconds: float = 5.0
    """How soon, in seconds, the document is built again when a service was missing from it."""
    docs_script_url: str = "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1"
    """The API reference script `/api/docs` loads (point it at a copy you host where browsers
    have no internet)."""
    deep_health_optional: str = "sandbox_runner"
    """Comma-separated components whose failure only degrades `/api/v1/health/deep` (200
    `degraded`, not 503)."""
    # The API key directory (docs/gateway.md): a NATS KV bucket every replica loads and follows.
    directory_bucket: str = "skiff_gateway_directory"
    """The NATS KV bucket of the API key and membership view."""
    directory_start_timeout_seconds: float = 10.0
    """Seconds a starting replica waits for its view; then it serves, and API keys answer 503
    `api_keys_unavailable` until the view is loaded."""
    # A key the view has not heard of yet is asked of identity (directory/lookup.py): bounded.
    key_lookup_per_second: float = 20.0
    """Identity lookups per second, per replica, of keys the view does not know yet; beyond
    it such a key is refused without asking. Only keys found not to exist spend it."""
    key_lookup_negative_seconds: float = 10.0
    """Seconds a key found unknown is refused without asking identity again."""
    key_lookup_timeout_seconds: float = 0.5
    """Seconds one identity lookup may take; past it the key is refused as unknown."""
    replica_id: str = ""
    """Names this replica's usage reports (`usage-<replica>-<window>`); empty: random."""
    usage_report_seconds: float = 5.0
    """How often, in seconds, a replica publishes its per-key request counts."""

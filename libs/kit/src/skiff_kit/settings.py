"""Typed service settings, read once at start from `SKIFF_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar

import msgspec

Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]
Seconds = Annotated[float, msgspec.Meta(gt=0)]


class SettingsError(ValueError):
    """One or more environment variables could not be turned into settings."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = dict(problems)
        listed = "; ".join(f"{name}: {problem}" for name, problem in self.problems.items())
        super().__init__(f"invalid settings: {listed}")


class ServiceSettings(msgspec.Struct, kw_only=True):
    """What every service reads at start; a service subclasses it to add its own fields.

    Each field is the variable `SKIFF_<FIELD>`; the string under a field is its description in
    docs/settings.md (`python -m skiff_cli.settings_reference` reads them from the source).
    """

    service_name: str = "skiff"
    """The service's name in logs, traces, `/health` and `/version`."""
    version: str = "0.1.0"
    """The release, shown by `/version` and in traces (the image sets it)."""
    git_revision: str = "unknown"
    """The commit the code was built from, shown by `/version` (the image sets it)."""
    host: str = "127.0.0.1"
    """Address to listen on (`0.0.0.0` for every interface, as in the images)."""
    port: Port = 8000
    """The public port; replicas on one host share it (SO_REUSEPORT)."""
    private_port: Port | None = None
    """A second port that reaches this one process alone (probes, a runner's file routes);
    unset: none."""
    database_url: str | None = None
    """`postgresql+asyncpg://skiff_<schema>:<password>@host:port/skiff`, as this service's own
    role. Every service with a schema needs it (`skiff up`, compose and Kubernetes set it)."""
    database_schema: str | None = None
    """The PostgreSQL schema this service owns and migrates."""
    nats_url: str = "nats://127.0.0.1:4222"
    """NATS server URL; comma-separated URLs for a cluster."""
    log_format: Literal["json", "console"] = "json"
    """`json` (one object per line, for machines) or `console` (for people)."""
    log_level: str = "info"
    """`debug`, `info`, `warning`, `error` or `critical`."""
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    """Tracing: `none` (spans keep their ids for the logs and `traceparent`, and are not
    recorded), `console` (spans printed) or `otlp` (OTLP over HTTP)."""
    otel_endpoint: str | None = None
    """OTLP/HTTP collector URL (`/v1/traces` is added to a bare host); unset: the OpenTelemetry
    SDK's own default and `OTEL_EXPORTER_OTLP_*` variables."""
    internal_public_keys: str = ""
    """JSON `{kid: PEM}`: the gateway's Ed25519 public keys whose internal tokens this service
    trusts; several during a key rotation. Empty: the public half of
    `SKIFF_INTERNAL_PRIVATE_KEY`."""
    internal_private_key: str = ""
    """Gateway only: the Ed25519 private key (PEM) it signs internal tokens with."""
    internal_key_id: str = "k1"
    """Gateway only: the key id (`kid`) of `SKIFF_INTERNAL_PRIVATE_KEY`."""
    # The HTTP server's own limits (skiff_kit.http_protocol, docs/gateway.md). A service's
    # sizes are twice the gateway's, so whatever the gateway admits (plus the few headers it
    # adds) always passes the service behind it.
    http_max_header_count: Positive = 200
    """Headers per request; more is 431 `request_header_fields_too_large`."""
    http_max_header_bytes: Positive = 16 * 1024
    """Bytes of one header (name + value), and of the request target (path + query: 414
    `uri_too_long`)."""
    http_max_head_bytes: Positive = 64 * 1024
    """Bytes of the request target and every header together; more is 431."""
    http_header_timeout_seconds: Seconds = 20.0
    """Seconds from a head's first byte to its end (else 408 `request_timeout`); a new
    connection that sends nothing for this long is closed."""
    http_body_timeout_seconds: Seconds = 30.0
    """Longest pause, in seconds, inside an expected request body (408, or the connection
    closed if the answer already began); not counted while the server itself holds back."""
    http_idle_timeout_seconds: Seconds = 75.0
    """Seconds a kept-alive connection may wait for its next request before it is closed; keep
    it above the idle timeout of any load balancer in front (docs/gateway.md, HTTP limits)."""


S = TypeVar("S", bound=ServiceSettings)


def env_name(field: str, prefix: str = "SKIFF_") -> str:
    """The environment variable that sets `field`: `SKIFF_DATABASE_URL` for `database_url`."""
    return f"{prefix}{field.upper()}"


def _convert(raw: str, annotation: Any) -> Any:
    """A string from the environment as `annotation`; JSON is accepted for containers."""
    try:
        return msgspec.convert(raw, annotation, strict=False)
    except msgspec.ValidationError:
        if raw.lstrip()[:1] in ("[", "{"):
            return msgspec.json.decode(raw, type=annotation, strict=False)
        raise


def load_settings(
    cls: type[S], *, environ: Mapping[str, str] | None = None, prefix: str = "SKIFF_"
) -> S:
    """Build `cls` from `<prefix><FIELD>` variables; raise `SettingsError` naming each bad one."""
    source = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in msgspec.structs.fields(cls):
        name = env_name(field.encode_name, prefix)
        raw = source.get(name)
        if raw is None:
            if field.required:
                problems[name] = "is required"
            continue
        try:
            values[field.name] = _convert(raw, field.type)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            if raw.strip() == "":
                # An empty variable means "not set" for anything that is not a string.
                if field.required:
                    problems[name] = "is required"
                continue
            problems[name] = str(error)
    if problems:
        raise SettingsError(problems)
    return cls(**values)

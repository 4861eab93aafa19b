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
    """What every service reads at start; a service subclasses it to add its own fields."""

    service_name: str = "skiff"
    version: str = "0.1.0"
    git_revision: str = "unknown"
    host: str = "127.0.0.1"
    port: Port = 8000
    private_port: Port | None = None
    database_url: str | None = None
    database_schema: str | None = None
    nats_url: str = "nats://127.0.0.1:4222"
    log_format: Literal["json", "console"] = "json"
    log_level: str = "info"
    otel_exporter: Literal["none", "console", "otlp"] = "none"
    otel_endpoint: str | None = None
    internal_public_keys: str = ""
    internal_private_key: str = ""
    internal_key_id: str = "k1"
    # The HTTP server's own limits (skiff_kit.http_protocol, docs/operations.md). A service's
    # sizes are twice the gateway's, so whatever the gateway admits (plus the few headers it
    # adds) always passes the service behind it.
    http_max_header_count: Positive = 200
    http_max_header_bytes: Positive = 16 * 1024
    http_max_head_bytes: Positive = 64 * 1024
    http_header_timeout_seconds: Seconds = 20.0
    http_body_timeout_seconds: Seconds = 30.0
    http_idle_timeout_seconds: Seconds = 75.0


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

"""The environment each service process receives (the services read their settings from it)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from skiff_kit.catalog import ServiceSpec

from skiff_cli import standins
from skiff_cli.config import StackConfig

GATEWAY = "gateway"
IDENTITY = "identity"
SANDBOX_RUNNER = "sandbox_runner"
BILLING = "billing"


def service_environment(
    config: StackConfig,
    spec: ServiceSpec,
    *,
    replica: int,
    private_port: int,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The inherited environment with every `SKIFF_*` setting of this replica filled in."""
    env = dict(os.environ if base is None else base)
    for scoped in _SCOPED:  # never leak a key from the parent shell to the wrong service
        env.pop(scoped, None)
    secrets = config.secrets
    internal, access = secrets.internal_token, secrets.access_token
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "SKIFF_SERVICE_NAME": spec.name,
            "SKIFF_REPLICA": str(replica),
            "SKIFF_HOST": config.host,
            "SKIFF_PORT": str(config.port(spec.name)),
            "SKIFF_PRIVATE_PORT": str(private_port),
            "SKIFF_NATS_URL": config.nats_url,
            "SKIFF_LOG_FORMAT": config.log_format,
            "SKIFF_LOG_LEVEL": config.log_level,
            "SKIFF_INTERNAL_KEY_ID": internal.key_id,
            "SKIFF_INTERNAL_PUBLIC_KEYS": json.dumps({internal.key_id: internal.public_key}),
        }
    )
    if spec.schema is not None:
        env["SKIFF_DATABASE_URL"] = config.database_url(spec.schema)
        env["SKIFF_DATABASE_SCHEMA"] = spec.schema
    if spec.name == GATEWAY:
        env["SKIFF_INTERNAL_PRIVATE_KEY"] = internal.private_key
        env["SKIFF_UPSTREAMS"] = json.dumps(
            {
                other.name: f"http://{_reachable(config.host)}:{config.port(other.name)}"
                for other in config.services
                if other.name != GATEWAY
            }
        )
    if spec.name in (GATEWAY, IDENTITY):
        env["SKIFF_ACCESS_TOKEN_KEY_ID"] = access.key_id
        env["SKIFF_ACCESS_TOKEN_PUBLIC_KEYS"] = json.dumps({access.key_id: access.public_key})
    if spec.name == IDENTITY:
        env["SKIFF_ACCESS_TOKEN_PRIVATE_KEY"] = access.private_key
    if spec.name == BILLING:
        env.update(standins.billing_environment(config, env))
    if spec.name == SANDBOX_RUNNER and config.sandbox_dir is not None:
        env["SKIFF_WORKSPACE_ROOT"] = str(config.sandbox_dir)
    env.update(config.extra_env)
    return env


def _reachable(host: str) -> str:
    """An address a local client can use for services bound to `host`."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


_SCOPED = (
    "SKIFF_DATABASE_URL",
    "SKIFF_DATABASE_SCHEMA",
    "SKIFF_INTERNAL_PRIVATE_KEY",
    "SKIFF_UPSTREAMS",
    "SKIFF_ACCESS_TOKEN_KEY_ID",
    "SKIFF_ACCESS_TOKEN_PUBLIC_KEYS",
    "SKIFF_ACCESS_TOKEN_PRIVATE_KEY",
    "SKIFF_WORKSPACE_ROOT",
)

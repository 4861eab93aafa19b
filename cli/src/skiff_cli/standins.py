"""The local Stripe and Polar stand-ins (`skiff_standins`), run when no provider keys are set.

So that a new user can buy credits end to end on a laptop: checkout URLs open the stand-in's
plain HTML page, paying sends webhooks through the gateway to billing, signed with secrets
derived from this stack's own secrets. Setting `SKIFF_STRIPE_API_KEY` (or the Polar one) in the
environment switches that provider to the real service (README, "Payments").
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Mapping

from skiff_cli.config import StackConfig
from skiff_cli.process import ManagedProcess

NAME = "payments_standin"
DEFAULT_PORT = 8090
KEYS = ("SKIFF_STRIPE_API_KEY", "SKIFF_POLAR_API_KEY")


def wanted(config: StackConfig, environ: Mapping[str, str] | None = None) -> bool:
    """True when the stack runs stand-ins and a provider has no key (environment or settings)."""
    if not config.payment_standins:
        return False
    source = {**(os.environ if environ is None else environ), **config.extra_env}
    return not all(source.get(key) for key in KEYS)


def _secret(config: StackConfig, provider: str) -> str:
    seed = f"{config.secrets.internal_token.private_key}:{provider}-standin".encode()
    digest = hashlib.sha256(seed).hexdigest()[:32]
    return f"whsec_{digest}" if provider == "stripe" else f"polar_whs_{digest}"


def port(config: StackConfig) -> int:
    return int(config.ports.get(NAME, DEFAULT_PORT))


def billing_environment(config: StackConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """What billing needs to use the stand-in for each provider without a key."""
    if not wanted(config, environ):
        return {}
    base = f"http://127.0.0.1:{port(config)}"
    env: dict[str, str] = {}
    if not environ.get("SKIFF_STRIPE_API_KEY"):
        env.update(
            SKIFF_STRIPE_API_KEY="sk_test_standin",
            SKIFF_STRIPE_API_BASE=f"{base}/stripe",
            SKIFF_STRIPE_WEBHOOK_SECRET=_secret(config, "stripe"),
        )
    if not environ.get("SKIFF_POLAR_API_KEY"):
        env.update(
            SKIFF_POLAR_API_KEY="polar_oat_standin",
            SKIFF_POLAR_API_BASE=f"{base}/polar",
            SKIFF_POLAR_WEBHOOK_SECRET=_secret(config, "polar"),
            SKIFF_POLAR_PRODUCT_ID="prod_standin_credits",
        )
    return env


def process(config: StackConfig) -> ManagedProcess | None:
    """The stand-ins' process, or None when both providers are real."""
    if not wanted(config):
        return None
    gateway = config.gateway_url()
    listen = port(config)
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SKIFF_STANDIN_PORT": str(listen),
        "SKIFF_STANDIN_PUBLIC_URL": f"http://localhost:{listen}",
        "SKIFF_STANDIN_STRIPE_WEBHOOK_URL": f"{gateway}/webhooks/stripe",
        "SKIFF_STANDIN_POLAR_WEBHOOK_URL": f"{gateway}/webhooks/polar",
        "SKIFF_STRIPE_WEBHOOK_SECRET": _secret(config, "stripe"),
        "SKIFF_POLAR_WEBHOOK_SECRET": _secret(config, "polar"),
    }
    return ManagedProcess(
        name=NAME,
        replica=0,
        port=listen,
        private_port=listen,  # it answers /health on its one port
        command=[sys.executable, "-m", "skiff_standins"],
        environment=env,
        log_path=config.log_dir / f"{NAME}-0.log",
    )

"""`Idempotency-Key` on POST, for every service behind the gateway (docs/gateway.md)."""

from __future__ import annotations

from skiff_gateway.idempotency.guard import IDEMPOTENCY_HEADER, Forwarder, Idempotency
from skiff_gateway.idempotency.store import IdempotencyStore
from skiff_gateway.settings import GatewaySettings

__all__ = ["IDEMPOTENCY_HEADER", "Forwarder", "Idempotency", "IdempotencyStore", "idempotency_from"]


def idempotency_from(settings: GatewaySettings) -> Idempotency:
    """The guard and its store, from the `SKIFF_IDEMPOTENCY_*` settings.

    A claim counts as abandoned after twice the upstream timeout: by then the forwarding
    replica has answered or failed, unless it died (its claim would otherwise block the key).
    """
    store = IdempotencyStore(
        settings.nats_url,
        bucket=settings.idempotency_bucket,
        ttl_seconds=settings.idempotency_ttl_seconds,
        timeout_seconds=settings.idempotency_store_timeout_seconds,
        abandoned_after_seconds=2 * settings.upstream_timeout_seconds,
    )
    return Idempotency(
        store,
        max_body=settings.idempotency_max_body_bytes,
        max_answer=settings.idempotency_max_answer_bytes,
    )

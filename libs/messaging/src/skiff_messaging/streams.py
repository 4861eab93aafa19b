"""The JetStream streams (one per publishing service) and durable pull consumers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import structlog
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import BadRequestError
from skiff_contracts.live import LIVE_STREAM, LIVE_SUBJECTS

log = structlog.get_logger("skiff_messaging.streams")

STREAMS: dict[str, str] = {
    "IDENTITY": "identity.>",
    "BILLING": "billing.>",
    "ORCHESTRATOR": "orchestrator.>",
    "SANDBOX": "sandbox.>",
    "NOTIFICATION": "notification.>",
    "GATEWAY": "gateway.>",
}

DUPLICATE_WINDOW_SECONDS = 5 * 60.0
MAX_AGE_SECONDS = 7 * 24 * 3600.0
_STREAM_NAME_IN_USE = 10058


def stream_config(name: str, *, replicas: int = 1) -> StreamConfig:
    """The configuration every Skiff stream gets (`replicas`: copies in a NATS cluster)."""
    return StreamConfig(
        name=name,
        subjects=[STREAMS[name]],
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=MAX_AGE_SECONDS,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


async def ensure_streams(
    js: JetStreamContext, names: Iterable[str] | None = None, *, replicas: int | None = None
) -> None:
    """Create each stream, or bring an existing one to the current configuration.

    `replicas` is set by the deployment's bootstrap (3 on a 3-node cluster); None (the
    services) creates a stream with 1 and keeps the count of an existing one, so a service
    never shrinks what the bootstrap set.
    """
    for name in names if names is not None else STREAMS:
        config = stream_config(name, replicas=replicas or 1)
        try:
            await js.add_stream(config)
        except BadRequestError as exc:
            if exc.err_code != _STREAM_NAME_IN_USE:
                raise
            if replicas is None:
                existing = await js.stream_info(name)
                config = stream_config(name, replicas=existing.config.num_replicas or 1)
            await js.update_stream(config)
            log.info("stream updated", stream=name)


def durable_name(service: str, event_type: str) -> str:
    """The STYLE.md durable name: `billing--identity-organization-created`."""
    return f"{service}--{event_type.replace('.', '-')}"


async def ensure_consumer(
    js: JetStreamContext,
    *,
    stream: str,
    durable: str,
    subjects: Sequence[str],
    ack_wait: float = 30,
    max_deliver: int = 10,
) -> None:
    """Create or update a durable pull consumer (explicit ack, all messages, filtered)."""
    if not subjects:
        raise ValueError(f"consumer {durable!r} on {stream!r} needs at least one subject")
    config = ConsumerConfig(
        name=durable,
        durable_name=durable,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ack_wait,
        max_deliver=max_deliver,
        filter_subjects=list(subjects),
    )
    # Without an `action`, NATS 2.10+ treats CONSUMER.CREATE as create-or-update.
    await js.add_consumer(stream, config)


LIVE_MAX_AGE_SECONDS = 3600.0
LIVE_MAX_BYTES = 512 * 1024 * 1024


def live_stream_config(
    *, max_age: float = LIVE_MAX_AGE_SECONDS, max_bytes: int = LIVE_MAX_BYTES
) -> StreamConfig:
    """LIVE (`live.>`): task output and status, short-lived and bounded (DESIGN.md, Events).

    Memory storage: a NATS restart loses live output in flight, never a task's final state or
    its transcript (those travel as `sandbox.task.*` events on the SANDBOX stream).
    """
    return StreamConfig(
        name=LIVE_STREAM,
        subjects=[LIVE_SUBJECTS],
        storage=StorageType.MEMORY,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=max_age,
        max_bytes=max_bytes,
        duplicate_window=0,
    )


async def ensure_live_stream(js: JetStreamContext) -> None:
    """Create LIVE, or bring it to the current configuration."""
    config = live_stream_config()
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != _STREAM_NAME_IN_USE:
            raise
        await js.update_stream(config)

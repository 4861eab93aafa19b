"""Streams and durable consumers: created as the design says, updated in place."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, DeliverPolicy, RetentionPolicy, StorageType
from skiff_messaging import STREAMS, durable_name, ensure_consumer, ensure_streams


async def test_every_service_stream_exists_with_dedup_and_file_storage(
    js: JetStreamContext,
) -> None:
    await ensure_streams(js)  # a second time: nothing to change, nothing fails
    for name, subjects in STREAMS.items():
        config = (await js.stream_info(name)).config
        assert config.subjects == [subjects]
        assert config.storage == StorageType.FILE
        assert config.retention == RetentionPolicy.LIMITS
        assert config.duplicate_window == 300
        assert config.max_age == 7 * 24 * 3600


async def test_a_changed_stream_is_updated(js: JetStreamContext) -> None:
    await js.update_stream(name="BILLING", subjects=["billing.>"], duplicate_window=10)
    await ensure_streams(js, ["BILLING"])
    assert (await js.stream_info("BILLING")).config.duplicate_window == 300


async def test_a_durable_pull_consumer_is_created_then_updated(js: JetStreamContext) -> None:
    durable = durable_name("billing", "identity.organization.created")
    assert durable == "billing--identity-organization-created"
    await ensure_consumer(
        js, stream="IDENTITY", durable=durable, subjects=["identity.organization.created"]
    )
    await ensure_consumer(
        js,
        stream="IDENTITY",
        durable=durable,
        subjects=["identity.organization.created", "identity.user.registered"],
        ack_wait=5,
        max_deliver=3,
    )
    config = (await js.consumer_info("IDENTITY", durable)).config
    assert config.durable_name == durable
    assert config.deliver_subject is None  # pull
    assert config.ack_policy == AckPolicy.EXPLICIT
    assert config.deliver_policy == DeliverPolicy.ALL
    assert config.filter_subjects == ["identity.organization.created", "identity.user.registered"]
    assert (config.ack_wait, config.max_deliver) == (5, 3)

"""JetStream Object Store buckets: opened, or created on first use by whoever comes first."""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BadRequestError, BucketNotFoundError
from nats.js.object_store import ObjectStore


async def open_object_store(
    js: JetStreamContext, bucket: str, *, ttl: float | None = None
) -> ObjectStore:
    """The bucket `bucket` (file storage; objects expire after `ttl` seconds if given)."""
    for _ in range(3):
        try:
            return await js.object_store(bucket)
        except BucketNotFoundError:
            config = ObjectStoreConfig(ttl=ttl, storage=StorageType.FILE)
            try:
                return await js.create_object_store(bucket, config)
            except BadRequestError:
                continue  # created concurrently by someone else: open theirs
    return await js.object_store(bucket)

"""Signing secrets and Standard Webhooks headers, made with the `standardwebhooks` library."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """`whsec_` + 32 random bytes in base64 (the form Standard Webhooks libraries read)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def active_secrets(
    secret: str, previous: str | None, previous_until: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    if previous and previous_until is not None and now < previous_until:
        return [secret, previous]
    return [secret]


def headers(message_id: str, body: bytes, signing: list[str], at: datetime) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and one `v1,` signature per secret, over `body`."""
    signatures = " ".join(Webhook(s).sign(message_id, at, body) for s in signing)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }

"""Signatures of inbound webhooks, checked by the providers' own libraries.

Stripe: `stripe.Webhook.construct_event` (HMAC-SHA256 of `<t>.<body>` in `Stripe-Signature`,
older than the tolerance refused). Polar: Standard Webhooks through `standardwebhooks`, with
the endpoint secret in either of Polar's formats:

- current: `whsec_<base64>`, the Standard Webhooks form (the key is the decoded bytes);
- legacy: the plain secret string Polar showed before (the key is its UTF-8 bytes, which is
  what Polar's earlier SDKs did by base64-encoding it before handing it to standardwebhooks).

A secret of the current form is tried both ways, so either kind of endpoint verifies. Any
failure is `InvalidWebhook` (a 400 that changes nothing): the provider will not retry a 4xx.
"""

from __future__ import annotations

import base64
import binascii
import time

import msgspec
import standardwebhooks
import stripe
from skiff_kit.errors import BadRequest

from skiff_billing.webhooks.polar_objects import PolarEvent
from skiff_billing.webhooks.stripe_objects import StripeEvent


def invalid(reason: str) -> BadRequest:
    return BadRequest(
        "The webhook's signature or payload is not valid.",
        code="invalid_webhook",
        details={"reason": reason},
    )


def stripe_event(body: bytes, signature: str | None, secret: str, tolerance: int) -> StripeEvent:
    """The verified event, or 400 `invalid_webhook`."""
    try:
        stripe.Webhook.construct_event(body, signature, secret, tolerance)
    except stripe.SignatureVerificationError as error:
        raise invalid(f"signature: {error.user_message or error}") from None
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise invalid(f"payload: {type(error).__name__}") from None
    try:
        return msgspec.json.decode(body, type=StripeEvent)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise invalid(f"payload: {error}") from None


def polar_verifiers(secret: str) -> list[standardwebhooks.Webhook]:
    """One verifier per key the secret may stand for (current format first)."""
    verifiers = []
    if secret.startswith("whsec_"):
        key = secret.removeprefix("whsec_")
        try:
            base64.b64decode(key + "=" * (-len(key) % 4), validate=True)
            verifiers.append(standardwebhooks.Webhook(secret))
        except (binascii.Error, ValueError):
            pass
    verifiers.append(standardwebhooks.Webhook(secret.encode()))
    return verifiers


def polar_event(
    body: bytes, headers: dict[str, str], secret: str, tolerance: int
) -> tuple[str, PolarEvent]:
    """(`webhook-id`, the verified event), or 400 `invalid_webhook`."""
    failure = "no signature"
    for verifier in polar_verifiers(secret):
        try:
            verifier.verify(body, headers, json_parse=False)
        except standardwebhooks.WebhookVerificationError as error:
            failure = str(error)
            continue
        break
    else:
        raise invalid(f"signature: {failure}")
    # standardwebhooks allows 5 minutes either way; a stricter setting narrows it.
    sent = headers.get("webhook-timestamp", "0")
    if tolerance < 300 and abs(time.time() - float(sent)) > tolerance:
        raise invalid("signature: timestamp outside the tolerance")
    try:
        event = msgspec.json.decode(body, type=PolarEvent)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise invalid(f"payload: {error}") from None
    return headers["webhook-id"], event

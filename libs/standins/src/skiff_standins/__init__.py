"""Local stand-ins of Stripe and Polar: a development and test tool, never for production.

They speak the parts of the providers' HTTP APIs that Skiff calls, keep their state in
memory, show a plain HTML checkout page (Pay, fail, pay later), and send webhooks signed
exactly as the providers do, with the providers' own libraries: `Stripe-Signature` made by
`stripe.WebhookSignature.generate_signature_header`, Polar's Standard Webhooks headers made by
`standardwebhooks.Webhook.sign`. `python -m skiff_standins` serves both (`skiff up` starts it
when no provider keys are configured).
"""

from skiff_standins.app import StandIns, create_app
from skiff_standins.delivery import Delivery, HttpSender

__all__ = ["Delivery", "HttpSender", "StandIns", "create_app"]

"""`python -m skiff_standins`: serve the Stripe and Polar stand-ins (development only).

Settings (environment): `SKIFF_STANDIN_HOST` (127.0.0.1; `0.0.0.0` in a container),
`SKIFF_STANDIN_PORT` (8090), `SKIFF_STANDIN_PUBLIC_URL`
(`http://localhost:<port>`), `SKIFF_STANDIN_STRIPE_WEBHOOK_URL` / `_POLAR_WEBHOOK_URL` (where
webhooks go: the gateway's `/webhooks/stripe` and `/webhooks/polar`),
`SKIFF_STRIPE_WEBHOOK_SECRET`, `SKIFF_POLAR_WEBHOOK_SECRET` (the secrets billing checks).
"""

from __future__ import annotations

import logging
import os

import uvicorn

from skiff_standins.app import StandIns, create_app
from skiff_standins.delivery import HttpSender


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    port = int(os.environ.get("SKIFF_STANDIN_PORT", "8090"))
    public_url = os.environ.get("SKIFF_STANDIN_PUBLIC_URL", f"http://localhost:{port}")
    stripe_url = os.environ.get("SKIFF_STANDIN_STRIPE_WEBHOOK_URL")
    polar_url = os.environ.get("SKIFF_STANDIN_POLAR_WEBHOOK_URL")
    standins = StandIns.create(
        public_url=public_url,
        stripe_webhook_secret=os.environ.get("SKIFF_STRIPE_WEBHOOK_SECRET", "whsec_standin"),
        polar_webhook_secret=os.environ.get("SKIFF_POLAR_WEBHOOK_SECRET", "whsec_c3RhbmRpbg=="),
        stripe_sender=HttpSender(stripe_url) if stripe_url else None,
        polar_sender=HttpSender(polar_url) if polar_url else None,
    )
    host = os.environ.get("SKIFF_STANDIN_HOST", "127.0.0.1")
    uvicorn.run(create_app(standins), host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()

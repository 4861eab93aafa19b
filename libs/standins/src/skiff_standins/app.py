"""Both stand-ins in one Litestar app: `/stripe/...`, `/polar/...`, `GET /health`, `/ready`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from litestar import Litestar, get
from litestar.datastructures import State

from skiff_standins import polar_routes, stripe_routes
from skiff_standins.delivery import Delivery, Sender
from skiff_standins.polar_state import PolarState
from skiff_standins.stripe_state import StripeState


@dataclass
class StandIns:
    """The two providers' state; tests reach in (`stripe.sessions`, `delivery.settle()`)."""

    stripe: StripeState
    polar: PolarState

    @classmethod
    def create(
        cls,
        *,
        public_url: str,
        stripe_webhook_secret: str,
        polar_webhook_secret: str,
        stripe_sender: Sender | None = None,
        polar_sender: Sender | None = None,
        retry_delays: Sequence[float] = (0.5, 1, 2, 5, 10, 30, 60),
    ) -> StandIns:
        return cls(
            stripe=StripeState(
                public_url=public_url.rstrip("/"),
                webhook_secret=stripe_webhook_secret,
                delivery=Delivery(stripe_sender, retry_delays),
            ),
            polar=PolarState(
                public_url=public_url.rstrip("/"),
                webhook_secret=polar_webhook_secret,
                delivery=Delivery(polar_sender, retry_delays),
            ),
        )

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait for every webhook in flight to be delivered or given up."""
        await self.stripe.delivery.settle(timeout)
        await self.polar.delivery.settle(timeout)


@get("/health", include_in_schema=False)
async def health() -> dict[str, str]:
    return {"status": "ok", "service": "payments_standin"}  # the name the supervisor knows it by


@get("/ready", include_in_schema=False)
async def ready() -> dict[str, str]:
    """Ready as soon as it serves: its state is in memory, it depends on nothing."""
    return {"status": "ready"}


def create_app(standins: StandIns) -> Litestar:
    async def close() -> None:
        await standins.stripe.delivery.close()
        await standins.polar.delivery.close()

    return Litestar(
        route_handlers=[stripe_routes.ROUTER, polar_routes.ROUTER, health, ready],
        state=State({"stripe": standins.stripe, "polar": standins.polar}),
        on_shutdown=[close],
        openapi_config=None,
    )

"""What owners are told about an endpoint: failing, about to be disabled, disabled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.notices.telling import Notice, Teller
from skiff_notification.webhooks.models import WebhookEndpoint


@dataclass(frozen=True)
class Notifier:
    """Tells the endpoint's organization's owners."""

    teller: Teller

    async def failing(
        self, session: AsyncSession, endpoint: WebhookEndpoint, now: datetime
    ) -> None:
        """A message to it exhausted every retry."""
        await self._tell(
            session,
            endpoint,
            kind="webhook_failing",
            source=f"whk_failing_{endpoint.id}_{_epoch(endpoint.failing_since or now)}",
            title="A webhook endpoint is failing",
            text=(
                f"Deliveries to {endpoint.url} have been failing since"
                f" {_when(endpoint.failing_since or now)}; a message gave up after every retry."
                " Fix the receiver, then recover the failed messages."
            ),
        )

    async def disabling_soon(
        self, session: AsyncSession, endpoint: WebhookEndpoint, at: datetime
    ) -> None:
        """It will be disabled at `at` unless a delivery succeeds before."""
        await self._tell(
            session,
            endpoint,
            kind="webhook_disabling",
            source=f"whk_warning_{endpoint.id}_{_epoch(endpoint.failing_since or at)}",
            title="A webhook endpoint will be disabled in a day",
            text=(
                f"Every delivery to {endpoint.url} has failed since"
                f" {_when(endpoint.failing_since or at)}. Unless one succeeds, the endpoint is"
                f" disabled at {_when(at)}."
            ),
        )

    async def disabled(self, session: AsyncSession, endpoint: WebhookEndpoint) -> None:
        """It was disabled (410 Gone, or days of failure); its messages are kept."""
        reason = (
            "the receiver answered 410 Gone"
            if endpoint.disabled_reason == "gone"
            else "every delivery failed for days"
        )
        at = endpoint.disabled_at or endpoint.updated_at
        await self._tell(
            session,
            endpoint,
            kind="webhook_disabled",
            source=f"whk_disabled_{endpoint.id}_{_epoch(at)}",
            title="A webhook endpoint was disabled",
            text=(
                f"{endpoint.url} was disabled at {_when(at)}: {reason}. Its messages are kept;"
                " re-enable the endpoint, then recover them."
            ),
        )

    async def _tell(
        self,
        session: AsyncSession,
        endpoint: WebhookEndpoint,
        *,
        kind: str,
        source: str,
        title: str,
        text: str,
    ) -> None:
        await self.teller.tell(
            session,
            organization_id=endpoint.organization_id,
            source_id=source,
            notice=Notice(
                category="webhooks",
                kind=kind,
                title=title,
                body=text,
                email_subject=f"Skiff: {title.lower()}",
                email_text=text,
                data={"endpoint_id": endpoint.id, "url": endpoint.url},
            ),
        )


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M UTC}"

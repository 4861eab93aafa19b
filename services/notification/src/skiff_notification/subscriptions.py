"""What notification reads from the bus: every public event (for webhooks) and the events it
turns into notices, emails and its directory; one durable consumer per stream.

The webhook fan-out is generic: every type `skiff_contracts.public` calls public gets it, so a
new event type is delivered to endpoints without a change here. Where a type also has its own
handlers, they run in the same transaction as the fan-out and the inbox row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from skiff_contracts import Envelope, EventPayload
from skiff_contracts.events.identity import MembershipChanged, UserRegistered
from skiff_contracts.public import WebhookPing, public_event_types
from skiff_messaging.consumer import Handler
from skiff_messaging.service_bus import Subscription
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.directory import service as directory
from skiff_notification.email.handlers import email_handlers
from skiff_notification.inbox import handlers as inbox
from skiff_notification.notices.billing import billing_notice_handlers
from skiff_notification.notices.deployments import deployment_notice_handlers
from skiff_notification.notices.events import notice_handlers
from skiff_notification.notices.telling import Teller
from skiff_notification.webhooks.fanout import fan_out

STREAMS: dict[str, str] = {
    "IDENTITY": "identity.",
    "BILLING": "billing.",
    "ORCHESTRATOR": "orchestrator.",
    "SANDBOX": "sandbox.",
}
Entry = tuple[type[EventPayload], Handler]


def subscriptions(*, public_url: str, teller: Teller, max_payload_bytes: int) -> list[Subscription]:
    """The consumers of notification, by stream (`notification--identity` ...)."""
    own: defaultdict[str, list[Entry]] = defaultdict(list)
    for mapping in (
        {UserRegistered.event_type: (UserRegistered, inbox.user_registered)},
        {UserRegistered.event_type: (UserRegistered, directory.user_registered)},
        {MembershipChanged.event_type: (MembershipChanged, directory.membership_changed)},
        email_handlers(public_url),
        notice_handlers(teller),
        billing_notice_handlers(teller),
        deployment_notice_handlers(teller),
    ):
        for event_type, entry in mapping.items():
            own[event_type].append(entry)

    async def webhooks(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        await fan_out(session, envelope, payload, max_bytes=max_payload_bytes)

    public = {n: c for n, c in public_event_types().items() if n != WebhookPing.event_type}
    for event_type, cls in public.items():
        own[event_type].append((cls, webhooks))
    result = []
    for stream, prefix in STREAMS.items():
        handlers = {
            event_type: _chained(event_type, entries)
            for event_type, entries in sorted(own.items())
            if event_type.startswith(prefix)
        }
        if handlers:
            durable = f"notification--{stream.lower()}"
            result.append(Subscription(stream=stream, durable=durable, handlers=handlers))
    return result


def _chained(event_type: str, entries: Sequence[Entry]) -> Entry:
    """One handler running each of `entries` in order, in the consumer's one transaction."""
    types = {cls for cls, _ in entries}
    if len(types) != 1:
        raise TypeError(f"{event_type}: handlers disagree on the payload type: {types}")
    if len(entries) == 1:
        return entries[0]
    parts = [handler for _, handler in entries]

    async def run_all(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        for part in parts:
            await part(session, envelope, payload)

    return types.pop(), run_all


def handled_types(subs: Sequence[Subscription]) -> Mapping[str, str]:
    """Event type → the durable consumer that handles it (for tests and docs)."""
    return {t: s.durable for s in subs for t in s.handlers}

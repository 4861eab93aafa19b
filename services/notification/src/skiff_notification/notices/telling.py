"""One notice to every owner of an organization: in-app and email, each where switched on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.directory.service import Person
from skiff_notification.email import service as email
from skiff_notification.email.templates import Rendered
from skiff_notification.inbox import service as inbox
from skiff_notification.preferences import service as preferences
from skiff_notification.preferences import tokens

UNSUBSCRIBE_API_PATH = "/api/v1/notifications/unsubscribe"
UNSUBSCRIBE_PAGE_PATH = "/unsubscribe"


@dataclass(frozen=True)
class Notice:
    """What to say: `kind` names it (notification type, email kind), `category` files it."""

    category: str
    kind: str
    title: str
    body: str
    email_subject: str
    email_text: str
    data: dict[str, Any] = field(default_factory=dict)


def unsubscribe_links(public_url: str, token: str) -> tuple[str, str]:
    """(the page a person opens, the URL a mail client POSTs to) for one token."""
    base = public_url.rstrip("/")
    query = urlencode({"token": token}, quote_via=quote)
    return f"{base}{UNSUBSCRIBE_PAGE_PATH}?{query}", f"{base}{UNSUBSCRIBE_API_PATH}?{query}"


OwnersOf = Callable[[AsyncSession, str], Awaitable[list[Person]]]


@dataclass(frozen=True)
class Teller:
    """Tells an organization's owners: found by `owners` (the directory, or identity when it
    knows none: directory.lookup), links in emails pointing at `public_url`."""

    public_url: str
    owners: OwnersOf

    async def tell(
        self, session: AsyncSession, *, organization_id: str, source_id: str, notice: Notice
    ) -> int:
        """Notify each owner once per `source_id`; how many owners were told at all."""
        people = await self.owners(session, organization_id)
        return await _tell(session, people, organization_id, source_id, notice, self.public_url)


async def _tell(
    session: AsyncSession,
    people: list[Person],
    organization_id: str,
    source_id: str,
    notice: Notice,
    public_url: str,
) -> int:
    ids = [person.user_id for person in people]
    in_app = await preferences.wanting(session, ids, notice.category, "in_app")
    by_email = await preferences.wanting(session, ids, notice.category, "email")
    key = await tokens.signing_key(session) if by_email else b""
    for person in people:
        if person.user_id in in_app:
            await inbox.notify(
                session,
                organization_id=organization_id,
                user_id=person.user_id,
                type_=notice.kind,
                title=notice.title,
                body=notice.body,
                source_event_id=source_id,
                data=notice.data,
            )
        if person.user_id in by_email:
            page, one_click = unsubscribe_links(
                public_url, tokens.make(key, person.user_id, notice.category)
            )
            text = (
                f"Hello {person.name},\n\n{notice.email_text.rstrip()}\n\n--\n"
                f"You receive this as an owner of the organization. To stop {notice.category}"
                f" emails, open: {page}\n"
            )
            await email.enqueue(
                session,
                source_event_id=source_id,
                kind=notice.kind,
                to=person.email,
                message=Rendered(subject=notice.email_subject, text=text),
                unsubscribe_url=one_click,
            )
    return len(in_app | by_email)

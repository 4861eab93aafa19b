"""Preference routes (the signed-in user's) and the one-click unsubscribe (no sign-in)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post, put
from litestar.params import JSONBody, QueryParameter
from skiff_kit.db import DbSession
from skiff_kit.errors import Forbidden
from skiff_kit.internal_token import CurrentPrincipal, GatewayCaller, Principal
from skiff_kit.openapi_errors import errors

from skiff_notification.preferences import service, tokens
from skiff_notification.preferences.catalog import CATEGORIES, SECURITY_EMAILS
from skiff_notification.preferences.schemas import (
    Channels,
    PreferencesChange,
    PreferencesOut,
    Unsubscribed,
)


def _user_of(principal: Principal) -> str:
    if principal.user_id is None:
        raise Forbidden("Preferences belong to users; sign in as a user.", code="user_required")
    return principal.user_id


def _out(switches: service.Switches) -> PreferencesOut:
    values: dict[str, Any] = {c: Channels(**switches[c]) for c in CATEGORIES}
    return PreferencesOut(**values, always_sent=list(SECURITY_EMAILS))


class PreferencesController(Controller):
    path = "/api/v1/notifications/preferences"
    tags = ["notifications"]

    @get("/", responses=errors(401, 403))
    async def show_preferences(
        self, principal: CurrentPrincipal, db_session: DbSession
    ) -> PreferencesOut:
        """Your switches: per category, in-app and email (security emails are always sent)."""
        return _out(await service.of_user(db_session, _user_of(principal)))

    @put("/", responses=errors(401, 403))
    async def change_preferences(
        self, principal: CurrentPrincipal, db_session: DbSession, data: JSONBody[PreferencesChange]
    ) -> PreferencesOut:
        """Turn categories' channels on or off; what is not sent stays as it is."""
        user_id = _user_of(principal)
        changes = {
            category: {
                ch: on for ch, on in (("in_app", c.in_app), ("email", c.email)) if on is not None
            }
            for category in CATEGORIES
            if (c := getattr(data, category)) is not None
        }
        await service.change(db_session, user_id, changes)
        return _out(await service.of_user(db_session, user_id))


UnsubscribeToken = Annotated[str, QueryParameter(min_length=3, max_length=400)]


@post(
    "/api/v1/notifications/unsubscribe",
    status_code=200,
    tags=["notifications"],
    responses=errors(401),
)
async def unsubscribe(
    caller: GatewayCaller, db_session: DbSession, token: UnsubscribeToken
) -> Unsubscribed:
    """One-click unsubscribe (RFC 8058) from an email's category; the signed token is enough."""
    user_id, category = tokens.read(await tokens.signing_key(db_session), token)
    await service.change(db_session, user_id, {category: {"email": False}})
    return Unsubscribed(category=category, channel="email", enabled=False)

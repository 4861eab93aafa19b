"""Reading and changing preferences; every switch is on until its user turns it off."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from skiff_notification.preferences.catalog import CATEGORIES, CHANNELS
from skiff_notification.preferences.models import Preference

Switches = dict[str, dict[str, bool]]


async def of_user(session: AsyncSession, user_id: str) -> Switches:
    """Every category's channels for one user (defaults filled in)."""
    switches = {category: dict.fromkeys(CHANNELS, True) for category in CATEGORIES}
    rows = await session.scalars(select(Preference).where(Preference.user_id == user_id))
    for row in rows:
        if row.category in switches and row.channel in CHANNELS:
            switches[row.category][row.channel] = row.enabled
    return switches


async def change(
    session: AsyncSession, user_id: str, changes: Mapping[str, Mapping[str, bool]]
) -> None:
    """Set the given (category, channel) switches; others stay as they are."""
    now = datetime.now(UTC)
    rows = [
        {"user_id": user_id, "category": c, "channel": ch, "enabled": on, "updated_at": now}
        for c, channels in changes.items()
        for ch, on in channels.items()
    ]
    if not rows:
        return
    statement = insert(Preference).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Preference.user_id, Preference.category, Preference.channel],
            set_={"enabled": statement.excluded.enabled, "updated_at": now},
        )
    )


async def wanting(
    session: AsyncSession, user_ids: Iterable[str], category: str, channel: str
) -> set[str]:
    """Which of `user_ids` have `channel` on for `category`."""
    wanted = set(user_ids)
    if not wanted:
        return wanted
    off = await session.scalars(
        select(Preference.user_id).where(
            Preference.user_id.in_(wanted),
            Preference.category == category,
            Preference.channel == channel,
            Preference.enabled.is_(False),
        )
    )
    return wanted - set(off)

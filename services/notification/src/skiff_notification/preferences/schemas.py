"""HTTP bodies of the preference and unsubscribe routes."""

from __future__ import annotations

from typing import Literal

import msgspec


class Channels(msgspec.Struct):
    in_app: bool
    email: bool


class PreferencesOut(msgspec.Struct, kw_only=True):
    """Each category's channels; `always_sent` lists the emails no switch turns off."""

    account: Channels
    billing: Channels
    sessions: Channels
    deployments: Channels
    runs: Channels
    workflows: Channels
    webhooks: Channels
    always_sent: list[str]


class ChannelsChange(msgspec.Struct, forbid_unknown_fields=True):
    in_app: bool | None = None
    email: bool | None = None


class PreferencesChange(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Only the categories and channels sent change."""

    account: ChannelsChange | None = None
    billing: ChannelsChange | None = None
    sessions: ChannelsChange | None = None
    deployments: ChannelsChange | None = None
    runs: ChannelsChange | None = None
    workflows: ChannelsChange | None = None
    webhooks: ChannelsChange | None = None


class Unsubscribed(msgspec.Struct, kw_only=True):
    category: str
    channel: Literal["email"]
    enabled: bool

"""The in-memory directory every replica authenticates from: plain dict reads, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import structlog
from skiff_contracts.events.identity import ApiKeyState

from skiff_gateway.directory.records import MemberRecord, SessionsRecord

log = structlog.get_logger("skiff_gateway.directory")


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """What authenticating with a key needs, with times as unix seconds (cheap to compare)."""

    key_id: str
    organization_id: str
    scopes: tuple[str, ...]
    active: bool
    revoked: bool
    deleted: bool
    expires_at: float | None
    rate_limit_per_minute: int | None
    secret_hash: str
    grace_secret_hash: str | None
    grace_until: float | None
    version: int


def entry_of(state: ApiKeyState) -> KeyEntry:
    return KeyEntry(
        key_id=state.key_id,
        organization_id=state.organization_id,
        scopes=tuple(state.scopes),
        active=state.active,
        revoked=state.revoked,
        deleted=state.deleted,
        expires_at=state.expires_at.timestamp() if state.expires_at else None,
        rate_limit_per_minute=state.rate_limit_per_minute,
        secret_hash=state.secret_hash,
        grace_secret_hash=state.grace_secret_hash,
        grace_until=state.grace_until.timestamp() if state.grace_until else None,
        version=state.version,
    )


class DirectoryView:
    """Keys by secret hash (current and in-grace), roles by (user, org), session revocations."""

    def __init__(self) -> None:
        self.loaded = False  # True once the whole bucket was read at start
        self.keys: dict[str, KeyEntry] = {}
        self.by_secret: dict[str, KeyEntry] = {}
        self.by_grace: dict[str, KeyEntry] = {}
        self.roles: dict[tuple[str, str], str | None] = {}
        self.revoked_before: dict[str, float] = {}

    def key(self, secret_hash: str) -> tuple[KeyEntry, bool] | None:
        """The key whose current (False) or previous, rotated-away (True) secret this is."""
        entry = self.by_secret.get(secret_hash)
        if entry is not None:
            return entry, False
        entry = self.by_grace.get(secret_hash)
        return (entry, True) if entry is not None else None

    def apply(self, kv_key: str, value: bytes | None) -> None:
        """Take one record of the bucket (None: it was deleted); bad records are skipped."""
        kind, _, rest = kv_key.partition(".")
        try:
            if kind == "apikey":
                self._key(rest, msgspec.json.decode(value, type=ApiKeyState) if value else None)
            elif kind == "member":
                user_id, _, org_id = rest.partition(".")
                role = msgspec.json.decode(value, type=MemberRecord).role if value else None
                self.roles[(user_id, org_id)] = role
            elif kind == "sessions":
                if value is None:
                    self.revoked_before.pop(rest, None)
                else:
                    record = msgspec.json.decode(value, type=SessionsRecord)
                    self.revoked_before[rest] = record.revoked_before.timestamp()
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.error("directory record skipped", key=kv_key, error=str(exc))

    def offer(self, state: ApiKeyState) -> None:
        """Take a key's state learned outside the bucket (a lookup), unless it is older."""
        known = self.keys.get(state.key_id)
        if known is None or known.version <= state.version:
            self._key(state.key_id, state)

    def _key(self, key_id: str, state: ApiKeyState | None) -> None:
        old = self.keys.pop(key_id, None)
        if old is not None:
            if self.by_secret.get(old.secret_hash) is old:
                del self.by_secret[old.secret_hash]
            if old.grace_secret_hash and self.by_grace.get(old.grace_secret_hash) is old:
                del self.by_grace[old.grace_secret_hash]
        if state is None:
            return
        entry = entry_of(state)
        self.keys[key_id] = entry
        self.by_secret[entry.secret_hash] = entry
        if entry.grace_secret_hash:
            self.by_grace[entry.grace_secret_hash] = entry

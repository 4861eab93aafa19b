"""The in-memory directory every replica authenticates from: plain dict reads, no I/O."""

from __future__ import annotations

import time
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


# A key learned from a lookup, not yet seen in the bucket, is trusted this long; then it is
# looked up again. So a replica whose watch has fallen behind cannot keep honouring a key
# revoked meanwhile for more than this.
PROVISIONAL_SECONDS = 30.0


class DirectoryView:
    """Keys by secret hash (current and in-grace), roles by (user, org), session revocations."""

    def __init__(self) -> None:
        self.loaded = False  # True once the whole bucket was read at start
        self.keys: dict[str, KeyEntry] = {}
        self.provisional: dict[str, float] = {}  # key id -> until (monotonic), lookups only
        self.by_secret: dict[str, KeyEntry] = {}
        self.by_grace: dict[str, KeyEntry] = {}
        self.roles: dict[tuple[str, str], str | None] = {}
        self.revoked_before: dict[str, float] = {}

    def key(self, secret_hash: str) -> tuple[KeyEntry, bool] | None:
        """The key whose current (False) or previous, rotated-away (True) secret this is."""
        entry = self.by_secret.get(secret_hash)
        previous = False
        if entry is None:
            entry = self.by_grace.get(secret_hash)
            previous = True
        if entry is None:
            return None
        until = self.provisional.get(entry.key_id) if self.provisional else None
        if until is not None and until <= time.monotonic():
            self._key(entry.key_id, None)  # unconfirmed for too long: look it up again
            self.provisional.pop(entry.key_id, None)
            return None
        return entry, previous

    def apply(self, kv_key: str, value: bytes | None) -> None:
        """Take one record of the bucket (None: it was deleted); bad records are skipped."""
        kind, _, rest = kv_key.partition(".")
        try:
            if kind == "apikey":
                self._key(rest, msgspec.json.decode(value, type=ApiKeyState) if value else None)
                self.provisional.pop(rest, None)  # the bucket has it: confirmed
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
        """Take a key's state learned outside the bucket (a lookup), unless it is older; it is
        provisional until the bucket confirms it (`PROVISIONAL_SECONDS`)."""
        known = self.keys.get(state.key_id)
        if known is None or known.version < state.version:
            self._key(state.key_id, state)
            self.provisional[state.key_id] = time.monotonic() + PROVISIONAL_SECONDS

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

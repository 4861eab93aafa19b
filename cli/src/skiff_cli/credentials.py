"""The secrets of one Skiff: database passwords and signing keys, generated once and kept."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path

import msgspec
from skiff_kit.internal_token import generate_keypair

from skiff_cli.files import write_atomically


class KeyPair(msgspec.Struct, frozen=True):
    """An Ed25519 signing key (PEM) with the id tokens name it by."""

    key_id: str
    private_key: str
    public_key: str


class Secrets(msgspec.Struct, frozen=True):
    """Everything that must stay the same from one start to the next."""

    postgres_password: str
    roles: dict[str, str]  # schema -> password of its role
    internal_token: KeyPair
    access_token: KeyPair

    @classmethod
    def generate(cls, schemas: Iterable[str]) -> Secrets:
        """Fresh random passwords and keys, for one schema role each."""
        internal_private, internal_public = generate_keypair()
        access_private, access_public = generate_keypair()
        return cls(
            postgres_password=_password(),
            roles={schema: _password() for schema in schemas},
            internal_token=KeyPair("k1", internal_private, internal_public),
            access_token=KeyPair("a1", access_private, access_public),
        )

    def with_roles(self, schemas: Iterable[str]) -> Secrets:
        """The same secrets, plus a password for any schema that has none yet."""
        missing = {schema: _password() for schema in schemas if schema not in self.roles}
        if not missing:
            return self
        return msgspec.structs.replace(self, roles={**self.roles, **missing})


def load_or_create(path: Path, schemas: Iterable[str]) -> Secrets:
    """Read the secrets file, creating it (0600) on first use or extending it for new schemas."""
    wanted = list(schemas)
    if path.exists():
        stored = msgspec.json.decode(path.read_bytes(), type=Secrets)
        current = stored.with_roles(wanted)
        if current is stored:
            return stored
    else:
        current = Secrets.generate(wanted)
    write_atomically(path, msgspec.json.format(msgspec.json.encode(current)), mode=0o600)
    return current


def _password() -> str:
    return secrets.token_urlsafe(24)

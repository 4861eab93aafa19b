"""Where `skiff up` keeps its state: everything lives under one root folder (`.skiff/`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    """The files and folders under the state root."""

    root: Path

    @property
    def postgres_dir(self) -> Path:
        """The PostgreSQL data folder (durable)."""
        return self.root / "postgres"

    @property
    def nats_dir(self) -> Path:
        """The JetStream store."""
        return self.root / "nats"

    @property
    def logs_dir(self) -> Path:
        """One log file per service process."""
        return self.root / "logs"

    @property
    def sandboxes_dir(self) -> Path:
        """The sandbox-runners' workspaces (one folder per sandbox)."""
        return self.root / "sandboxes"

    @property
    def secrets_path(self) -> Path:
        """Passwords and signing keys, generated once (mode 0600)."""
        return self.root / "secrets.json"

    @property
    def state_path(self) -> Path:
        """What runs right now; exists only while a supervisor runs."""
        return self.root / "state.json"

    def has_database(self) -> bool:
        """True once PostgreSQL has been initialised here."""
        return (self.postgres_dir / "PG_VERSION").exists()

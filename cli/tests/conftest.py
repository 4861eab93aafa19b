"""Shared set-up of the CLI tests: helper modules in `support/`, one initialised state root."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).with_name("support")))

from skiff_cli.credentials import load_or_create
from skiff_cli.layout import Layout
from skiff_embedded import EmbeddedPostgres, free_port


@pytest.fixture(scope="session")
def initialised_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A `.skiff` with secrets and a durable, initialised (stopped) cluster; copy it, never use it.

    initdb with fsync takes seconds, so tests that are not about a first start share this one.
    """
    layout = Layout(tmp_path_factory.mktemp("template") / ".skiff")
    secrets = load_or_create(layout.secrets_path, ["identity"])
    server = EmbeddedPostgres(
        layout.postgres_dir, port=free_port(), admin_password=secrets.postgres_password
    )
    server.initialize()
    return layout.root

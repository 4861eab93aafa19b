"""Secrets are generated once, kept private, and reused on every later start."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from skiff_cli.credentials import load_or_create
from skiff_cli.errors import StackError
from skiff_cli.layout import Layout
from skiff_cli.servers import check_secrets_match_data


def test_generated_once_with_mode_0600_then_reused(tmp_path: Path) -> None:
    path = tmp_path / ".skiff" / "secrets.json"
    first = load_or_create(path, ["identity", "billing"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    again = load_or_create(path, ["identity", "billing"])
    assert again == first
    assert path.read_bytes() == content
    assert set(first.roles) == {"identity", "billing"}
    assert first.roles["identity"] != first.roles["billing"]
    assert first.internal_token.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    assert first.internal_token.public_key != first.access_token.public_key


def test_a_new_schema_gets_a_password_and_nothing_else_changes(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = load_or_create(path, ["identity"])
    grown = load_or_create(path, ["identity", "notification"])
    assert grown.roles["identity"] == first.roles["identity"]
    assert grown.roles["notification"]
    assert grown.postgres_password == first.postgres_password
    assert grown.access_token == first.access_token
    assert load_or_create(path, ["identity", "notification"]) == grown
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_database_without_its_secrets_is_refused_not_reinitialised(tmp_path: Path) -> None:
    layout = Layout(tmp_path / ".skiff")
    check_secrets_match_data(layout)  # a fresh machine is fine
    layout.postgres_dir.mkdir(parents=True)
    (layout.postgres_dir / "PG_VERSION").write_text("17\n")
    with pytest.raises(StackError, match=r"secrets\.json is missing"):
        check_secrets_match_data(layout)
    load_or_create(layout.secrets_path, ["identity"])
    check_secrets_match_data(layout)

"""skiff_cli.container: secrets once, a settings file per service with only its own secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest
from skiff_cli.container_setup import ContainerSettings, role_secrets, write_secrets
from skiff_cli.credentials import Secrets
from skiff_kit.catalog import SERVICES


def settings_in(tmp_path: Path) -> ContainerSettings:
    return ContainerSettings(
        secrets_dir=str(tmp_path / "secrets"), settings_root=str(tmp_path / "settings")
    )


def read(path: Path) -> dict[str, str]:
    return msgspec.json.decode(path.read_bytes(), type=dict[str, str])


def test_secrets_are_generated_once_and_kept(tmp_path: Path) -> None:
    first = write_secrets(settings_in(tmp_path))
    again = write_secrets(settings_in(tmp_path))
    assert first == again
    assert (
        tmp_path / "secrets" / "postgres-password"
    ).read_text() == first.postgres_password + "\n"
    assert os.stat(tmp_path / "secrets" / "secrets.json").st_mode & 0o077 == 0
    other = write_secrets(settings_in(tmp_path / "elsewhere"))
    assert other.postgres_password != first.postgres_password


def test_each_service_gets_only_its_own_secrets(tmp_path: Path) -> None:
    secrets = write_secrets(settings_in(tmp_path))
    files = {
        spec.name: read(tmp_path / "settings" / spec.name / "settings.json") for spec in SERVICES
    }
    internal, access = secrets.internal_token.private_key, secrets.access_token.private_key
    for name, values in files.items():
        assert (values.get("SKIFF_INTERNAL_PRIVATE_KEY") == internal) == (name == "gateway")
        assert (values.get("SKIFF_ACCESS_TOKEN_PRIVATE_KEY") == access) == (name == "identity")
        passwords = [p for p in secrets.roles.values() if p in values.get("SKIFF_DATABASE_URL", "")]
        assert len(passwords) == (0 if name == "gateway" else 1), name
    assert "@postgres:5432/skiff" in files["billing"]["SKIFF_DATABASE_URL"]
    upstreams = json.loads(files["gateway"]["SKIFF_UPSTREAMS"])
    assert upstreams["sandbox_runner"] == "http://sandbox-runner:8084"
    assert upstreams["identity"] == "http://identity:8081"


def test_role_passwords_come_from_the_services_urls() -> None:
    environ = {
        f"SKIFF_DATABASE_URL_{spec.schema.upper()}": (
            f"postgresql+asyncpg://skiff_{spec.schema}:p%40ss-{spec.schema}@db:5432/skiff"
        )
        for spec in SERVICES
        if spec.schema
    }
    secrets: Secrets = role_secrets(environ)
    assert secrets.roles["billing"] == "p@ss-billing"


def test_exec_adds_the_settings_file_under_the_environment(tmp_path: Path) -> None:
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"SKIFF_A": "from-file", "SKIFF_B": "from-file"}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "skiff_cli.container",
            "exec",
            "--",
            "sh",
            "-c",
            'echo "$SKIFF_A $SKIFF_B"',
        ],
        env={**os.environ, "SKIFF_SETTINGS_FILE": str(settings), "SKIFF_B": "from-env"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "from-file from-env"


def test_exec_refuses_a_broken_settings_file(tmp_path: Path) -> None:
    broken = tmp_path / "settings.json"
    broken.write_text("[1, 2]")
    done = subprocess.run(
        [sys.executable, "-m", "skiff_cli.container", "exec", "--", "true"],
        env={**os.environ, "SKIFF_SETTINGS_FILE": str(broken)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "not a JSON object of strings" in done.stderr


def test_bootstrap_names_a_missing_url() -> None:
    from skiff_cli.errors import StackError

    environ = {
        f"SKIFF_DATABASE_URL_{spec.schema.upper()}": "postgresql://u:pw@db/skiff"
        for spec in SERVICES
        if spec.schema and spec.schema != "billing"
    }
    with pytest.raises(StackError, match="SKIFF_DATABASE_URL_BILLING"):
        role_secrets(environ)

"""Each service gets exactly its own settings: database role, keys, upstreams."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from fakes import fake_config
from skiff_cli.environment import service_environment


def _env(tmp_path: Path, name: str, **base: str) -> dict[str, str]:
    config = fake_config(
        tmp_path,
        admin_dsn="postgresql://postgres:pw@127.0.0.1:5544/postgres",
        nats_url="nats://127.0.0.1:4244",
        ports={},
        database="skiff",
    )
    return service_environment(config, config.spec(name), replica=1, private_port=9001, base=base)


def test_identity_connects_as_its_role_and_signs_access_tokens(tmp_path: Path) -> None:
    env = _env(tmp_path, "identity", PATH="/bin")
    url = urlsplit(env["SKIFF_DATABASE_URL"])
    assert (url.scheme, url.username, url.hostname, url.port, url.path) == (
        "postgresql+asyncpg", "skiff_identity", "127.0.0.1", 5544, "/skiff",
    )  # fmt: skip
    assert unquote(url.password or "")
    assert env["SKIFF_DATABASE_SCHEMA"] == "identity"
    assert env["SKIFF_SERVICE_NAME"] == "identity"
    assert (env["SKIFF_PORT"], env["SKIFF_PRIVATE_PORT"], env["SKIFF_HOST"]) == (
        "8081", "9001", "127.0.0.1",
    )  # fmt: skip
    assert env["SKIFF_NATS_URL"] == "nats://127.0.0.1:4244"
    assert "PRIVATE KEY" in env["SKIFF_ACCESS_TOKEN_PRIVATE_KEY"]
    access = json.loads(env["SKIFF_ACCESS_TOKEN_PUBLIC_KEYS"])
    assert "PUBLIC KEY" in access[env["SKIFF_ACCESS_TOKEN_KEY_ID"]]
    internal = json.loads(env["SKIFF_INTERNAL_PUBLIC_KEYS"])
    assert "PUBLIC KEY" in internal[env["SKIFF_INTERNAL_KEY_ID"]]
    assert "SKIFF_INTERNAL_PRIVATE_KEY" not in env
    assert env["PATH"] == "/bin"


def test_a_server_on_this_machine_is_reached_through_its_unix_socket(tmp_path: Path) -> None:
    sockets = tmp_path / "postgres data"  # a space, quoted in the URL
    config = fake_config(
        tmp_path,
        admin_dsn="postgresql://postgres:pw@127.0.0.1:5544/postgres",
        database="skiff",
        socket_dir=sockets,
    )
    env = service_environment(config, config.spec("billing"), replica=1, private_port=9001, base={})
    url = urlsplit(env["SKIFF_DATABASE_URL"])
    assert (url.scheme, url.username, url.hostname, url.port, url.path) == (
        "postgresql+asyncpg", "skiff_billing", None, None, "/skiff",
    )  # fmt: skip
    assert unquote(url.password or "") == config.secrets.roles["billing"]
    assert parse_qs(url.query) == {"host": [str(sockets)], "port": ["5544"]}


def test_gateway_signs_internal_tokens_and_knows_every_upstream(tmp_path: Path) -> None:
    env = _env(tmp_path, "gateway")
    assert "SKIFF_DATABASE_URL" not in env
    assert "PRIVATE KEY" in env["SKIFF_INTERNAL_PRIVATE_KEY"]
    assert "SKIFF_ACCESS_TOKEN_PRIVATE_KEY" not in env
    assert json.loads(env["SKIFF_ACCESS_TOKEN_PUBLIC_KEYS"])
    assert json.loads(env["SKIFF_UPSTREAMS"]) == {
        "identity": "http://127.0.0.1:8081",
        "billing": "http://127.0.0.1:8082",
        "orchestrator": "http://127.0.0.1:8083",
        "sandbox_runner": "http://127.0.0.1:8084",
        "notification": "http://127.0.0.1:8085",
    }


def test_other_services_get_no_signing_key_even_from_the_parent_shell(tmp_path: Path) -> None:
    env = _env(tmp_path, "billing", SKIFF_INTERNAL_PRIVATE_KEY="leak", SKIFF_STRIPE_KEY="sk")
    assert "SKIFF_INTERNAL_PRIVATE_KEY" not in env
    assert "SKIFF_ACCESS_TOKEN_PUBLIC_KEYS" not in env
    assert "SKIFF_UPSTREAMS" not in env
    assert env["SKIFF_STRIPE_KEY"] == "sk"  # service-specific settings pass through
    assert env["SKIFF_DATABASE_URL"].startswith("postgresql+asyncpg://skiff_billing:")
    sandbox = _env(tmp_path, "sandbox_runner")
    assert sandbox["SKIFF_DATABASE_URL"].startswith("postgresql+asyncpg://skiff_sandbox:")

"""The benchmark's servers: the upstream service and the gateways, each its own process."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jwt
import msgspec
import nats
from skiff_contracts.events.identity import ApiKeyState
from skiff_embedded import free_port
from skiff_kit.internal_token import InternalTokenSigner, Principal, generate_keypair

HERE = Path(__file__).parent
ACCESS_KEY_ID = "a1"
API_KEY = "sk_live_bench_" + "k" * 32
DIRECTORY_BUCKET = "skiff_gateway_directory"


@dataclass
class Keys:
    """Every key of the run: the gateway's signing pair, identity's token pair, one API key."""

    internal_private: str
    internal_public: str
    access_private: str
    access_public: str

    @classmethod
    def new(cls) -> Keys:
        return cls(*generate_keypair(), *generate_keypair())

    def access_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": "skiff-identity",
            "aud": "skiff",
            "sub": "usr_bench",
            "org": "org_bench",
            "role": "owner",
            "iat": now,
            "exp": now + 3600,
        }
        headers = {"kid": ACCESS_KEY_ID}
        return jwt.encode(claims, self.access_private, algorithm="EdDSA", headers=headers)

    def internal_token(self) -> str:
        """What the gateway would sign: sent straight to the service (valid 60 s)."""
        principal = Principal(organization_id="org_bench", user_id="usr_bench", via="session")
        return InternalTokenSigner(self.internal_private, "k1").sign(principal)


def api_key_state() -> ApiKeyState:
    """The benchmark's API key as identity announces it (no limit of its own)."""
    return ApiKeyState(
        key_id="key_bench",
        organization_id="org_bench",
        created_by="usr_bench",
        name="bench",
        prefix=API_KEY[:12],
        last4=API_KEY[-4:],
        secret_hash=hashlib.sha256(API_KEY.encode()).hexdigest(),
        scopes=["*"],
        active=True,
        revoked=False,
        deleted=False,
        expires_at=None,
        rate_limit_per_minute=None,
        grace_secret_hash=None,
        grace_until=None,
        version=1,
        changed_at=datetime.now(UTC),
    )


async def publish_api_key(nats_url: str) -> None:
    """Put the key into the gateway's directory bucket, as its projector would."""
    from skiff_gateway.directory.runtime import open_bucket

    connection = await nats.connect(nats_url)
    try:
        kv = await open_bucket(connection.jetstream(), DIRECTORY_BUCKET)
        await kv.put("apikey.key_bench", msgspec.json.encode(api_key_state()))
    finally:
        await connection.close()


def _wait_listening(port: int, process: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"a server exited at start: {' '.join(map(str, process.args))}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process `pid` and its children so far; 0 off Linux."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (OSError, ValueError, IndexError):
        return total
    return total + sum(cpu_seconds(int(child)) for child in children)


@dataclass
class Running:
    """A started server: where it listens and its process id."""

    port: int
    pid: int


@contextmanager
def server(command: list[str], env: dict[str, str]) -> Iterator[Running]:
    """Run `command` with `env` on a free port (`SKIFF_PORT`) until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        command,
        env={**os.environ, **env, "SKIFF_PORT": str(port)},
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, process)
        yield Running(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def upstream_command() -> list[str]:
    return [sys.executable, str(HERE / "upstream.py")]


def gateway_command(server_name: str) -> list[str]:
    if server_name == "granian":
        return [sys.executable, str(HERE / "granian_gateway.py")]
    return [sys.executable, "-m", "skiff_gateway"]

"""When is a server container ready? When this process can use it, by the path the tests take.

A started container, or an open port, is not a ready server: PostgreSQL runs initdb first and
JetStream recovers its store after the port opens. So the wait strategies here probe the server
itself (pg_isready; NATS's `/healthz?js-enabled-only=true`) at the address the tests will use.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from skiff_embedded.postgres import postgres_bin
from testcontainers.core.waiting_utils import WaitStrategy, WaitStrategyTarget

STARTUP_TIMEOUT_SECONDS = 60.0
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Address:
    """A server port in the container, and how this process reaches it."""

    port: int
    on_host_network: bool

    def resolve(self, container: WaitStrategyTarget) -> tuple[str, int]:
        """(host, port) for this process: the port itself on the host network, else its mapping."""
        if self.on_host_network:
            return "127.0.0.1", self.port
        host = container.get_container_host_ip()
        # "localhost" may resolve to ::1 first; the published ports surely listen on IPv4.
        return ("127.0.0.1" if host == "localhost" else host), container.get_exposed_port(self.port)


def accepts_postgres(host: str, port: int) -> bool:
    """pg_isready (from the wheel) says the server accepts connections."""
    command = [str(postgres_bin() / "pg_isready"), "-h", host, "-p", str(port), "-q", "-t", "2"]
    return subprocess.run(command, check=False).returncode == 0


def jetstream_healthy(host: str, port: int) -> bool:
    """The NATS monitor port answers 200 to a JetStream health check."""
    url = f"http://{host}:{port}/healthz?js-enabled-only=true"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


class ServesFromHere(WaitStrategy):
    """Ready when `probe(host, port)` succeeds; fails fast, with the logs, if the server exits."""

    def __init__(self, address: Address, probe: Callable[[str, int], bool]) -> None:
        super().__init__()
        self._address = address
        self._probe = probe
        self.with_startup_timeout(int(STARTUP_TIMEOUT_SECONDS)).with_poll_interval(POLL_SECONDS)

    def wait_until_ready(self, container: WaitStrategyTarget) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while True:
            container.reload()
            if container.status in {"exited", "dead"}:
                raise RuntimeError(f"the container exited while starting:\n{_logs(container)}")
            if self._probe(*self._address.resolve(container)):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"not ready within {self._startup_timeout:.0f}s (port {self._address.port})"
                )
            time.sleep(self._poll_interval)


def _logs(container: WaitStrategyTarget) -> str:
    stdout, stderr = container.get_logs()
    return (stdout + stderr).decode(errors="replace")[-4000:]

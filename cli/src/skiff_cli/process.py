"""One supervised service process: spawn it, log its output to a file, restart it with back-off."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class RestartPolicy:
    """How crashed processes come back: 1 s, 2 s, 4 s ... up to `max_delay`."""

    enabled: bool = True
    initial_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0  # a process that ran this long starts again at `initial_delay`

    def delays(self, planned: float | None, *, ran_for: float) -> tuple[float, float]:
        """(the delay before this restart, the one planned for the next) after an exit."""
        stable = ran_for >= self.stable_after
        delay = self.initial_delay if stable or planned is None else planned
        return delay, min(delay * 2, self.max_delay)


@dataclass(frozen=True)
class ProcessHandle:
    """A snapshot of one replica of one service."""

    name: str
    replica: int
    pid: int | None  # None while the process is down
    port: int
    private_port: int
    log_path: Path
    started_at: float  # wall clock (epoch seconds) of the latest start
    restarts: int
    exit_code: int | None  # of the latest exit, while the process is down

    @property
    def label(self) -> str:
        """`name-replica`, as in the log file name."""
        return f"{self.name}-{self.replica}"

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self.pid is not None


def describe_exit(code: int) -> str:
    """`3`, or `-9 (SIGKILL)` for a process ended by a signal."""
    if code < 0:
        try:
            return f"{code} ({signal.Signals(-code).name})"
        except ValueError:
            return str(code)
    return str(code)


class ManagedProcess:
    """A service replica and the bookkeeping the supervisor needs to keep it running."""

    def __init__(
        self,
        *,
        name: str,
        replica: int,
        port: int,
        private_port: int,
        command: Sequence[str],
        environment: Mapping[str, str],
        log_path: Path,
    ) -> None:
        self.name, self.replica, self.port, self.private_port = name, replica, port, private_port
        self.command = list(command)
        self.environment = dict(environment)
        self.log_path = log_path
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.started_monotonic = 0.0
        self.restarts = 0
        self.exit_code: int | None = None
        self.next_delay: float | None = None
        self.restart_at: float | None = None

    @property
    def label(self) -> str:
        """`name-replica`."""
        return f"{self.name}-{self.replica}"

    def spawn(self) -> None:
        """Start the process in its own session, appending stdout and stderr to its log file."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"--- skiff: starting {self.label} at {stamp} ---\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.command,
                env=self.environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the supervisor only; it stops us in order
            )
        self.started_at = time.time()
        self.started_monotonic = time.monotonic()
        self.exit_code = None
        self.restart_at = None

    def poll(self) -> int | None:
        """The exit code once the running process has exited, else None."""
        return None if self.popen is None else self.popen.poll()

    def mark_exited(self, code: int, policy: RestartPolicy, now: float) -> float | None:
        """Record an exit; schedule a restart and return its delay (None when not restarting)."""
        self.popen, self.exit_code = None, code
        if not policy.enabled:
            return None
        ran_for = now - self.started_monotonic
        delay, self.next_delay = policy.delays(self.next_delay, ran_for=ran_for)
        self.restart_at = now + delay
        return delay

    def send(self, sig: signal.Signals) -> None:
        """Send a signal to the process, if it runs."""
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(sig)

    def handle(self) -> ProcessHandle:
        """A snapshot for callers outside the supervisor."""
        alive = self.popen is not None and self.popen.poll() is None
        return ProcessHandle(
            name=self.name,
            replica=self.replica,
            pid=self.popen.pid if alive and self.popen is not None else None,
            port=self.port,
            private_port=self.private_port,
            log_path=self.log_path,
            started_at=self.started_at,
            restarts=self.restarts,
            exit_code=None if alive else self.exit_code,
        )

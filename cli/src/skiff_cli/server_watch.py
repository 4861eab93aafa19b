"""PostgreSQL and NATS under the supervisor's eye: a death is logged and the server started
again with back-off (same data, same port); a copy someone else started meanwhile is watched
instead, and stopped with the stack."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import structlog
from skiff_embedded import EmbeddedNats, EmbeddedPostgres

from skiff_cli.process import RestartPolicy, describe_exit
from skiff_cli.procinfo import pid_alive, stop_pid

log = structlog.get_logger("skiff")

POLL_INTERVAL = 0.2


class WatchedServer:
    """One embedded server of the stack: the process started here, or whoever holds its data
    or port now (`holder`: PostgreSQL's `postmaster.pid`, the NATS port's listener)."""

    def __init__(
        self,
        name: str,
        server: EmbeddedPostgres | EmbeddedNats,
        *,
        holder: Callable[[], int | None],
        log_path: Path,
        stop_signal: signal.Signals,
        stop_timeout: float = 30.0,
    ) -> None:
        self.name, self.server, self.holder, self.log_path = name, server, holder, log_path
        self.stop_signal, self.stop_timeout = stop_signal, stop_timeout
        self.adopted: int | None = None  # the pid of a copy started elsewhere, once ours died
        self.restarts = 0
        self.started_at = time.time()
        self._started = time.monotonic()
        self._planned: float | None = None  # the next back-off delay
        self.restart_at: float | None = None  # monotonic time of a scheduled restart

    @property
    def pid(self) -> int | None:
        """The running server's pid (ours or the adopted one); None while it is down."""
        if self.restart_at is not None:
            return None
        return self.adopted if self.adopted is not None else self.server.pid

    def check(self, policy: RestartPolicy, now: float) -> bool:
        """Notice a death or carry out a due restart; True when something changed."""
        if self.restart_at is None:
            ended = self._ended()
            if ended is None:
                return False
            self.adopted = None
            restart_in = self._schedule(policy, now, ran_for=now - self._started)
            log.warning(
                f"{self.name} exited unexpectedly",
                exit_code=ended,
                log=str(self.log_path),
                restart_in=restart_in,
            )
            return True
        if now < self.restart_at:
            return False
        self._restart(policy)
        return True

    def stop(self) -> None:
        """Stop the server started here, then whatever holds its data or port now."""
        self.server.stop()
        holder = self.holder()
        if holder is not None:
            stop_pid(holder, sig=self.stop_signal, timeout=self.stop_timeout)
            log.info(f"{self.name} stopped (started elsewhere)", pid=holder)

    def _ended(self) -> str | None:
        if self.adopted is not None:
            return None if pid_alive(self.adopted) else "unknown (started elsewhere)"
        code = self.server.poll()
        return None if code is None else describe_exit(code)

    def _schedule(self, policy: RestartPolicy, now: float, *, ran_for: float) -> str | None:
        if not policy.enabled:
            self.restart_at = float("inf")  # down for good; the console said so
            return None
        delay, self._planned = policy.delays(self._planned, ran_for=ran_for)
        self.restart_at = now + delay
        return f"{delay:g}s"

    def _restart(self, policy: RestartPolicy) -> None:
        self.restart_at = None
        self.restarts += 1
        holder = self.holder()
        if holder is not None:  # someone was quicker (an operator by hand): watch theirs
            self.adopted, self.started_at = holder, time.time()
            log.warning(f"{self.name} was started again elsewhere; watching it", pid=holder)
            return
        try:
            self.server.start()
        except (RuntimeError, TimeoutError) as error:
            restart_in = self._schedule(policy, time.monotonic(), ran_for=0.0)
            log.error(
                f"{self.name} did not start again",
                error=str(error),
                log=str(self.log_path),
                restart_in=restart_in,
            )
            return
        self.started_at, self._started = time.time(), time.monotonic()
        log.info(f"{self.name} restarted", pid=self.server.pid, restarts=self.restarts)


class ServerWatch:
    """A thread that checks every watched server until stopped."""

    def __init__(
        self,
        servers: Sequence[WatchedServer],
        policy: RestartPolicy,
        *,
        on_change: Callable[[WatchedServer], None],
    ) -> None:
        self.servers, self.policy, self._on_change = list(servers), policy, on_change
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="skiff-server-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No more checks or restarts (a restart under way is finished first)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(POLL_INTERVAL):
            for server in self.servers:
                if self._stopping.is_set():
                    return
                if server.check(self.policy, time.monotonic()):
                    self._on_change(server)

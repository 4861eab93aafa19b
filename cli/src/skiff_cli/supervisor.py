"""The supervisor: runs every service as local processes, watches them, restarts the crashed."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from types import TracebackType

import structlog
from skiff_embedded import free_port

from skiff_cli import standins
from skiff_cli.config import StackConfig
from skiff_cli.environment import service_environment
from skiff_cli.errors import StackError
from skiff_cli.preparation import bootstrap, migrate
from skiff_cli.probe import healthy
from skiff_cli.process import ManagedProcess, ProcessHandle, describe_exit

log = structlog.get_logger("skiff")

POLL_INTERVAL = 0.1


class Stack:
    """The services of one Skiff on this machine, against an already running PostgreSQL and NATS."""

    def __init__(
        self, config: StackConfig, *, on_change: Callable[[Stack], None] | None = None
    ) -> None:
        self.config = config
        self._on_change = on_change
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self._processes: list[ManagedProcess] = []

    @property
    def gateway_url(self) -> str:
        """Where users reach the stack, e.g. `http://localhost:8080`."""
        return self.config.gateway_url()

    def prepare(self) -> None:
        """Bootstrap the database (roles, schemas) and run every service's migrations."""
        bootstrap(self.config)
        migrate(self.config)

    def start(self, *, prepare: bool = True, wait: bool = True) -> None:
        """Prepare the database, start every replica, and wait until all answer `/health`."""
        if prepare:
            self.prepare()
        with self._lock:
            if self._processes:
                raise RuntimeError("this stack was already started")
            self._stopping.clear()
            try:
                self._spawn_all()
            except BaseException:
                self.stop()
                raise
            self._monitor = threading.Thread(target=self._watch, name="skiff-monitor", daemon=True)
            self._monitor.start()
        self._changed()
        if wait:
            try:
                self.wait_healthy()
            except BaseException:
                self.stop()
                raise

    def processes(self, name: str | None = None) -> list[ProcessHandle]:
        """Snapshots of the replicas of one service (or of all), in replica order."""
        with self._lock:
            return [p.handle() for p in self._processes if name is None or p.name == name]

    def wait_healthy(self, timeout: float | None = None) -> None:
        """Block until every replica answers `/health` on its private port; else StackError."""
        deadline = time.monotonic() + (self.config.health_timeout if timeout is None else timeout)
        pending = self.processes()
        while pending:
            for handle in pending:
                code = handle.exit_code
                if code is not None and not self.config.restart.enabled:
                    message = f"{handle.label} exited with {describe_exit(code)}"
                    raise StackError(message, log_path=handle.log_path)
            pending = [
                h for h in self.processes() if not (h.alive and healthy(h.private_port, h.name))
            ]
            if pending and time.monotonic() > deadline:
                labels = ", ".join(h.label for h in pending)
                raise StackError(f"not healthy in time: {labels}", log_path=pending[0].log_path)
            if pending:
                time.sleep(POLL_INTERVAL)

    def kill(
        self,
        name: str,
        replica: int = 0,
        sig: signal.Signals = signal.SIGKILL,
        *,
        wait: bool = True,
    ) -> None:
        """Signal one replica (SIGKILL: as a crash would); with `wait`, return once it exited."""
        process = self._find(name, replica)
        popen = process.popen
        if popen is None:
            return
        popen.send_signal(sig)
        if wait:
            popen.wait(self.config.stop_timeout)

    def restart(self, name: str, replica: int = 0) -> ProcessHandle:
        """Stop one replica if it runs (SIGTERM, then SIGKILL) and start it again; returns it."""
        process = self._find(name, replica)
        with self._lock:
            _terminate([process], self.config.stop_timeout)
            process.restarts += 1
            process.spawn()
        self._changed()
        return process.handle()

    def stop(self) -> None:
        """SIGTERM every process, SIGKILL those still running after `stop_timeout`."""
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join()
            self._monitor = None
        with self._lock:
            running = [p for p in self._processes if p.poll() is None and p.popen is not None]
            if running:
                log.info("stopping services", processes=len(running))
            _terminate(running, self.config.stop_timeout)
        self._changed()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _spawn_all(self) -> None:
        # No port is bound until its process starts, so each is picked apart from the others.
        taken = {self.config.port(spec.name) for spec in self.config.services}
        taken.add(standins.port(self.config))
        for spec in self.config.services:
            for replica in range(self.config.replicas(spec.name)):
                private_port = free_port(avoid=taken)
                taken.add(private_port)
                process = ManagedProcess(
                    name=spec.name,
                    replica=replica,
                    port=self.config.port(spec.name),
                    private_port=private_port,
                    command=self.config.command(spec),
                    environment=service_environment(
                        self.config, spec, replica=replica, private_port=private_port
                    ),
                    log_path=self.config.log_dir / f"{spec.name}-{replica}.log",
                )
                self._processes.append(process)
                process.spawn()
        if (payments := standins.process(self.config)) is not None:
            self._processes.append(payments)  # called by billing only when someone buys
            payments.spawn()

    def _find(self, name: str, replica: int) -> ManagedProcess:
        with self._lock:
            for process in self._processes:
                if process.name == name and process.replica == replica:
                    return process
        raise KeyError(f"no process {name}-{replica}")

    def _watch(self) -> None:
        while not self._stopping.wait(POLL_INTERVAL):
            if self._check_once():
                self._changed()

    def _check_once(self) -> bool:
        with self._lock:
            if self._stopping.is_set():
                return False
            now = time.monotonic()
            # A list, not a generator: every process is checked, even after a first change.
            return any([self._check(process, now) for process in self._processes])

    def _check(self, process: ManagedProcess, now: float) -> bool:
        """Notice an exit or carry out a due restart; True when something changed."""
        code = process.poll()
        if code is not None:
            delay = process.mark_exited(code, self.config.restart, now)
            log.warning(
                "service exited unexpectedly",
                process=process.label,
                exit_code=describe_exit(code),
                log=str(process.log_path),
                restart_in=None if delay is None else f"{delay:g}s",
            )
            return True
        if process.popen is None and process.restart_at is not None and now >= process.restart_at:
            process.restarts += 1
            process.spawn()
            log.info(
                "service restarted",
                process=process.label,
                pid=process.popen.pid if process.popen else None,
                restarts=process.restarts,
            )
            return True
        return False

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self)


def _terminate(processes: list[ManagedProcess], timeout: float) -> None:
    """SIGTERM all at once, wait up to `timeout` in total, then SIGKILL the rest."""
    for process in processes:
        process.send(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        if process.popen is None:
            continue
        try:
            process.popen.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("service did not stop in time; killing it", process=process.label)
            process.popen.kill()
            process.popen.wait()
        process.exit_code = process.popen.returncode
        process.popen, process.restart_at = None, None

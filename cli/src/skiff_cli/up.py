"""`skiff up`: PostgreSQL, NATS and every service on this machine, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from msgspec.structs import replace
from skiff_embedded import EmbeddedNats, EmbeddedPostgres
from skiff_kit.catalog import SERVICES, service
from skiff_kit.settings import ServiceSettings
from skiff_kit.unknown_settings import warn_unknown_variables

from skiff_cli.config import Command, StackConfig, module_command
from skiff_cli.console import fail
from skiff_cli.credentials import load_or_create
from skiff_cli.errors import AlreadyRunning, StackError
from skiff_cli.layout import Layout
from skiff_cli.process import RestartPolicy
from skiff_cli.server_watch import ServerWatch, WatchedServer
from skiff_cli.servers import (
    check_secrets_match_data,
    server_state,
    start_nats,
    start_postgres,
    watched_nats,
    watched_postgres,
)
from skiff_cli.state import (
    State,
    new_state,
    process_state,
    read_state,
    reap_leftovers,
    write_state,
)
from skiff_cli.supervisor import Stack
from skiff_cli.table import render

log = structlog.get_logger("skiff")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class UpOptions:
    """The knobs of `skiff up`."""

    root: Path = Path(".skiff")
    pg_port: int = 5544
    nats_port: int = 4244
    scale: Mapping[str, int] = field(default_factory=dict)
    ports: Mapping[str, int] = field(default_factory=dict)
    log_format: str = "console"
    log_level: str = "info"
    command: Command = module_command
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    health_timeout: float = 90.0
    stop_timeout: float = 25.0


class UpSession:
    """Everything one `skiff up` runs, started in order and stopped in reverse."""

    def __init__(self, options: UpOptions) -> None:
        self.options = options
        self.layout = Layout(options.root)
        self.postgres: EmbeddedPostgres | None = None
        self.nats: EmbeddedNats | None = None
        self.stack: Stack | None = None
        self.servers: list[WatchedServer] = []  # PostgreSQL, then NATS, once each started
        self.watch: ServerWatch | None = None
        self._state: State | None = None
        self._state_lock = threading.Lock()

    def start(self) -> None:
        """Refuse if already running; start servers, database, migrations, services; record it."""
        layout, options = self.layout, self.options
        previous = read_state(layout.state_path)
        if previous is not None and previous.supervisor_running():
            raise AlreadyRunning(
                f"skiff is already running from {layout.root} (supervisor pid "
                f"{previous.supervisor_pid}); see `skiff status`, stop it with Ctrl-C "
                f"or `kill {previous.supervisor_pid}`"
            )
        if previous is not None:
            for leftover in reap_leftovers(previous):
                log.warning("stopped a leftover of an earlier run", process=leftover)
        # Each service warns in its own log; the console is where the operator looks.
        warn_unknown_variables(ServiceSettings)
        check_secrets_match_data(layout)
        secrets = load_or_create(
            layout.secrets_path, [spec.schema for spec in SERVICES if spec.schema is not None]
        )
        gateway_port = options.ports.get("gateway", service("gateway").port)
        self._save(new_state(f"http://localhost:{gateway_port}"))
        self.postgres = start_postgres(layout, secrets, port=options.pg_port)
        self.servers.append(watched_postgres(layout, self.postgres))
        self._save(self._current(postgres=server_state(self.postgres)))
        self.nats = start_nats(layout, port=options.nats_port)
        self.servers.append(watched_nats(layout, self.nats))
        self._save(self._current(nats=server_state(self.nats, self.nats.monitor_port)))
        config = StackConfig(
            admin_dsn=self.postgres.admin_dsn,
            nats_url=self.nats.url,
            secrets=secrets,
            log_dir=layout.logs_dir,
            sandbox_dir=layout.sandboxes_dir,
            ports=options.ports,
            scale=options.scale,
            log_format=options.log_format,
            log_level=options.log_level,
            command=options.command,
            restart=options.restart,
            health_timeout=options.health_timeout,
            stop_timeout=options.stop_timeout,
            payment_standins=True,
            socket_dir=self.postgres.socket_dir,
        )
        self.stack = Stack(config, on_change=self._record)
        self.stack.start()
        self.watch = ServerWatch(self.servers, options.restart, on_change=self._record_server)
        self.watch.start()

    def stop(self) -> None:
        """Services first (SIGTERM, then SIGKILL), then NATS, then PostgreSQL, whoever started
        them (a copy an operator started by hand too); drop state.json."""
        if self.watch is not None:
            self.watch.stop()  # nothing is restarted from here on
        if self.stack is not None:
            self.stack.stop()
        for server in reversed(self.servers):
            server.stop()
            log.info(f"{server.name} stopped")
        with self._state_lock:
            if self._state is not None:
                self.layout.state_path.unlink(missing_ok=True)
                self._state = None

    def _current(self, **changes: object) -> State:
        assert self._state is not None
        return replace(self._state, **changes)

    def _record(self, stack: Stack) -> None:
        with self._state_lock:
            if self._state is not None:
                processes = [process_state(handle) for handle in stack.processes()]
                self._save_locked(self._current(processes=processes))

    def _record_server(self, server: WatchedServer) -> None:
        monitor_port = self.nats.monitor_port if server.server is self.nats else None
        record = None
        if server.pid is not None:
            record = server_state(
                server.server, monitor_port, pid=server.pid, started_at=server.started_at
            )
        with self._state_lock:
            if self._state is not None and record is not None:
                self._save_locked(self._current(**{server.name: record}))

    def _save(self, state: State) -> None:
        with self._state_lock:
            self._save_locked(state)

    def _save_locked(self, state: State) -> None:
        write_state(self.layout.state_path, state)
        self._state = state


def run_up(options: UpOptions) -> int:
    """Start everything, say where to go, supervise until SIGINT/SIGTERM/SIGHUP, then stop."""
    session = UpSession(options)
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, _interrupt)
    code = 0
    try:
        session.start()
        sys.stdout.write(banner(session) + "\n")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log.info("stopping")
    except StackError as error:
        code = fail(str(error))
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the clean stop short
            signal.signal(sig, signal.SIG_IGN)
        try:
            session.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return code


def banner(session: UpSession) -> str:
    """The gateway URL and one line per process, printed once everything is healthy."""
    assert session.stack is not None
    assert session.postgres is not None
    assert session.nats is not None
    rows = [
        [h.name, str(h.replica), str(h.pid), str(h.port), str(h.private_port), str(h.log_path)]
        for h in session.stack.processes()
    ]
    table = render(["SERVICE", "REPLICA", "PID", "PORT", "PRIVATE PORT", "LOG"], rows)
    return (
        f"\nSkiff is up: {session.stack.gateway_url}\n\n{table}\n\n"
        f"PostgreSQL 127.0.0.1:{session.postgres.port}, NATS {session.nats.url}, "
        f"state in {session.layout.root}\n"
        "Ctrl-C stops everything; `skiff status` shows health.\n"
    )


def _interrupt(signum: int, frame: object) -> None:
    if signum == signal.SIGHUP:  # the terminal is gone: writing to it must not stop the clean-up
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives until exit
    log.info("signal received", signal=signal.Signals(signum).name)
    raise KeyboardInterrupt

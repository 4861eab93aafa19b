"""PostgreSQL and NATS from the wheels, with their data under the state root."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from urllib.parse import quote

import structlog
from skiff_embedded import EmbeddedNats, EmbeddedPostgres
from skiff_embedded.postgres import ADMIN_USER

from skiff_cli.credentials import Secrets
from skiff_cli.errors import StackError
from skiff_cli.holders import listening_pid, postmaster_pid
from skiff_cli.layout import Layout
from skiff_cli.procinfo import start_marker
from skiff_cli.server_watch import WatchedServer
from skiff_cli.state import ServerState

log = structlog.get_logger("skiff")


def check_secrets_match_data(layout: Layout) -> None:
    """Refuse to invent a new admin password for a database cluster initialised with another."""
    if layout.has_database() and not layout.secrets_path.exists():
        raise StackError(
            f"{layout.postgres_dir} holds a database but {layout.secrets_path} is missing, so its "
            f"passwords are lost; restore the file, or delete {layout.root} to start from scratch"
        )


def start_postgres(layout: Layout, secrets: Secrets, *, port: int) -> EmbeddedPostgres:
    """Start (after initdb on first use) the durable PostgreSQL of this root."""
    first = not layout.has_database()
    server = EmbeddedPostgres(
        layout.postgres_dir, port=port, admin_password=secrets.postgres_password, durable=True
    )
    try:
        server.start()
    except (RuntimeError, TimeoutError) as error:
        raise StackError(
            f"PostgreSQL: {error}", log_path=layout.postgres_dir / "server.log"
        ) from error
    log.info("postgres started", port=port, pid=server.pid, initialised=first)
    return server


def admin_dsn(secrets: Secrets, *, port: int) -> str:
    """The superuser URL of the PostgreSQL of this root, listening on `port`."""
    password = quote(secrets.postgres_password, safe="")
    return f"postgresql://{ADMIN_USER}:{password}@127.0.0.1:{port}/postgres"


def start_nats(layout: Layout, *, port: int) -> EmbeddedNats:
    """Start NATS with JetStream storing under this root."""
    server = EmbeddedNats(layout.nats_dir, port=port)
    _start(server, "NATS", layout.nats_dir / "server.log")
    log.info("nats started", port=port, pid=server.pid)
    return server


def server_state(
    server: EmbeddedPostgres | EmbeddedNats,
    monitor_port: int | None = None,
    *,
    pid: int | None = None,
    started_at: float | None = None,
) -> ServerState | None:
    """What state.json records of a server (by default the process we started)."""
    pid = server.pid if pid is None else pid
    if pid is None:
        return None
    return ServerState(
        pid=pid,
        port=server.port,
        started_at=time.time() if started_at is None else started_at,
        marker=start_marker(pid),
        monitor_port=monitor_port,
    )


def watched_postgres(layout: Layout, server: EmbeddedPostgres) -> WatchedServer:
    """PostgreSQL as the supervisor watches it: whoever serves the data folder is it."""
    return WatchedServer(
        "postgres",
        server,
        holder=lambda: postmaster_pid(layout.postgres_dir),
        log_path=layout.postgres_dir / "server.log",
        stop_signal=signal.SIGINT,  # PostgreSQL's fast shutdown
    )


def watched_nats(layout: Layout, server: EmbeddedNats) -> WatchedServer:
    """NATS as the supervisor watches it: whichever nats-server listens on its port is it."""
    return WatchedServer(
        "nats",
        server,
        holder=lambda: listening_pid(server.port, "nats-server"),
        log_path=layout.nats_dir / "server.log",
        stop_signal=signal.SIGTERM,
        stop_timeout=15.0,
    )


def _start(server: EmbeddedPostgres | EmbeddedNats, what: str, log_path: Path) -> None:
    """Start a server; whatever interrupts the start (Ctrl-C too) leaves no process behind."""
    try:
        server.start()
    except (RuntimeError, TimeoutError) as error:
        server.stop()
        raise StackError(f"{what}: {error}", log_path=log_path) from error
    except BaseException:
        server.stop()
        raise

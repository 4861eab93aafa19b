"""`skiff status`: one row per process of the running stack, with a live health probe."""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from skiff_cli.layout import Layout
from skiff_cli.probe import healthy, nats_healthy, port_open
from skiff_cli.procinfo import is_running
from skiff_cli.state import ProcessState, ServerState, State, read_state
from skiff_cli.table import duration, render

HEADERS = [
    "NAME",
    "REPLICA",
    "PID",
    "ALIVE",
    "PORT",
    "PRIVATE PORT",
    "HEALTH",
    "UPTIME",
    "RESTARTS",
]


def run_status(root: Path) -> int:
    """Print the table; exit code 0 while a supervisor runs, 1 when nothing does."""
    layout = Layout(root)
    state = read_state(layout.state_path)
    if state is None:
        sys.stdout.write(f"skiff is not running (no {layout.state_path})\n")
        return 1
    if not state.supervisor_running():
        sys.stdout.write(
            f"skiff is not running: the supervisor (pid {state.supervisor_pid}) is gone; "
            "the next `skiff up` stops whatever it left behind\n"
        )
        return 1
    sys.stdout.write(status_report(state) + "\n")
    return 0


def status_report(state: State, *, timeout: float = 1.0) -> str:
    """The gateway URL, then the table of PostgreSQL, NATS and every service replica."""
    now = time.time()
    with ThreadPoolExecutor(max_workers=8) as pool:
        server_rows = [
            pool.submit(_server_row, "postgres", state.postgres, now, timeout),
            pool.submit(_server_row, "nats", state.nats, now, timeout),
        ]
        process_rows = [pool.submit(_process_row, p, now, timeout) for p in state.processes]
        rows = [future.result() for future in [*server_rows, *process_rows]]
    supervisor = f"supervisor pid {state.supervisor_pid}, up {duration(now - state.started_at)}"
    return f"{state.gateway_url}  ({supervisor})\n\n{render(HEADERS, rows)}"


def _server_row(name: str, server: ServerState | None, now: float, timeout: float) -> list[str]:
    if server is None:
        return [name, "-", "-", "no", "-", "-", "-", "-", "-"]
    alive = is_running(server.pid, server.marker)
    if not alive:
        health = "-"
    elif server.monitor_port is not None:
        health = "ok" if nats_healthy(server.monitor_port, timeout=timeout) else "failing"
    else:
        health = "ok" if port_open(server.port, timeout=timeout) else "failing"
    private = str(server.monitor_port) if server.monitor_port else "-"
    uptime = duration(now - server.started_at) if alive else "-"
    return [name, "-", str(server.pid), _yes(alive), str(server.port), private, health, uptime, "-"]


def _process_row(process: ProcessState, now: float, timeout: float) -> list[str]:
    alive = is_running(process.pid, process.marker)
    health = "-"
    if alive:
        health = "ok" if healthy(process.private_port, process.name, timeout=timeout) else "failing"
    return [
        process.name,
        str(process.replica),
        str(process.pid) if process.pid is not None else "-",
        _yes(alive),
        str(process.port),
        str(process.private_port),
        health,
        duration(now - process.started_at) if alive else "-",
        str(process.restarts),
    ]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"

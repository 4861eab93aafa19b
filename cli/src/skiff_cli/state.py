"""`.skiff/state.json`: what a running `skiff up` supervises, for `skiff status` and the next up."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import msgspec

from skiff_cli.files import write_atomically
from skiff_cli.process import ProcessHandle
from skiff_cli.procinfo import is_running, start_marker, stop_pid


class ServerState(msgspec.Struct, frozen=True):
    """PostgreSQL or NATS as started by the supervisor."""

    pid: int
    port: int
    started_at: float
    marker: str | None = None
    monitor_port: int | None = None  # NATS only: its HTTP monitoring port


class ProcessState(msgspec.Struct, frozen=True):
    """One replica of one service."""

    name: str
    replica: int
    pid: int | None
    port: int
    private_port: int
    started_at: float
    restarts: int
    log: str
    marker: str | None = None


class State(msgspec.Struct, frozen=True):
    """The whole of what one supervisor runs."""

    supervisor_pid: int
    supervisor_marker: str | None
    started_at: float
    gateway_url: str
    postgres: ServerState | None = None
    nats: ServerState | None = None
    processes: list[ProcessState] = msgspec.field(default_factory=list)

    def supervisor_running(self) -> bool:
        """True while the `skiff up` that wrote this file is alive."""
        return is_running(self.supervisor_pid, self.supervisor_marker)


def new_state(gateway_url: str) -> State:
    """The state of this (supervisor) process, before anything runs."""
    pid = os.getpid()
    return State(pid, start_marker(pid), time.time(), gateway_url)


def process_state(handle: ProcessHandle) -> ProcessState:
    """What state.json records of a process."""
    marker = start_marker(handle.pid) if handle.pid is not None else None
    return ProcessState(
        name=handle.name,
        replica=handle.replica,
        pid=handle.pid,
        port=handle.port,
        private_port=handle.private_port,
        started_at=handle.started_at,
        restarts=handle.restarts,
        log=str(handle.log_path),
        marker=marker,
    )


def read_state(path: Path) -> State | None:
    """The recorded state, or None when there is none (or it is unreadable)."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=State)
    except (FileNotFoundError, msgspec.DecodeError, msgspec.ValidationError):
        return None


def write_state(path: Path, state: State) -> None:
    """Replace state.json atomically."""
    write_atomically(path, msgspec.json.format(msgspec.json.encode(state)))


def reap_leftovers(state: State) -> list[str]:
    """Stop what a supervisor that died without cleaning up left running; returns what it stopped.

    A pid is only signalled when its start time matches the record, never a stranger reusing it.
    """
    stopped = []
    for process in state.processes:
        if _ours(process.pid, process.marker) and process.pid is not None:
            stop_pid(process.pid)
            stopped.append(f"{process.name}-{process.replica} (pid {process.pid})")
    for name, server, sig in (
        ("nats", state.nats, signal.SIGTERM),
        ("postgres", state.postgres, signal.SIGINT),  # SIGINT: PostgreSQL's fast shutdown
    ):
        if server is not None and _ours(server.pid, server.marker):
            stop_pid(server.pid, sig=sig, timeout=30.0)
            stopped.append(f"{name} (pid {server.pid})")
    return stopped


def _ours(pid: int | None, marker: str | None) -> bool:
    """Only a process whose start time matches the record is safe to stop."""
    return marker is not None and is_running(pid, marker)

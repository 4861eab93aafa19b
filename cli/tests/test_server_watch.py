"""The supervisor watches PostgreSQL and NATS too: killed, they are logged and restarted (same
data, same port) and a real service is ready again; Ctrl-C stops a NATS restarted by hand."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from fakes import FAKE_SERVICE, FAST_RESTART, alive, copy_root, fake_command
from skiff_cli.config import free_ports, module_command
from skiff_cli.probe import port_open
from skiff_cli.state import read_state
from skiff_cli.up import UpOptions, UpSession
from skiff_embedded import EmbeddedNats, distinct_free_ports
from skiff_kit.catalog import ServiceSpec

RUN_UP = FAKE_SERVICE.with_name("run_up.py")
REAL = "notification"  # a real service (PostgreSQL and NATS in its /ready); the others fake


def _command(spec: ServiceSpec) -> list[str]:
    return module_command(spec) if spec.name == REAL else fake_command(spec)


def _wait_for(predicate: Callable[[], object], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _recorded(root: Path, name: str) -> tuple[int, int] | None:
    """(pid, port) of a server as state.json (and so `skiff status`) has it."""
    state = read_state(root / "state.json")
    server = None if state is None else state.nats if name == "nats" else state.postgres
    return None if server is None else (server.pid, server.port)


def test_killed_nats_and_postgres_are_restarted_and_the_service_is_ready_again(
    tmp_path: Path, initialised_root: Path
) -> None:
    root = copy_root(initialised_root, tmp_path / ".skiff")
    pg_port, nats_port = distinct_free_ports(2)  # none bound yet: all must differ
    options = UpOptions(
        root=root,
        pg_port=pg_port,
        nats_port=nats_port,
        ports=free_ports(avoid=(pg_port, nats_port)),
        command=_command,
        restart=FAST_RESTART,
        log_format="console",
    )
    session = UpSession(options)
    pids: list[int] = []
    try:
        session.start()
        assert session.stack is not None
        assert session.postgres is not None
        assert session.nats is not None
        probe = session.stack.processes(REAL)[0].private_port
        _wait_for(lambda: _ready(probe))

        for server, name in ((session.nats, "nats"), (session.postgres, "postgres")):
            killed = server.pid
            assert killed is not None
            os.kill(killed, signal.SIGKILL)
            _wait_for(lambda s=server, k=killed: s.pid not in (None, k) and s.poll() is None)
            pids += [killed, server.pid]  # type: ignore[list-item]
            _wait_for(lambda s=server, n=name: _recorded(root, n) == (s.pid, s.port))
            _wait_for(lambda: _ready(probe))  # reconnected to the new server, by itself
        assert session.stack.processes(REAL)[0].restarts == 0  # the service never restarted
    finally:
        session.stop()
    assert not any(alive(pid) for pid in pids)
    assert not port_open(options.pg_port)
    assert not port_open(options.nats_port)


class _Console:
    """The stderr of a `skiff up` process, read line by line without blocking forever."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stderr is not None
        self.stream = process.stderr
        self.text = ""

    def wait_for(self, needle: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            left = deadline - time.monotonic()
            assert left > 0, f"no {needle!r} in:\n{self.text}"
            if select.select([self.stream], [], [], left)[0]:
                line = self.stream.readline()
                assert line, f"skiff up ended:\n{self.text}"
                self.text += line


def test_ctrl_c_stops_a_nats_an_operator_restarted_by_hand(
    tmp_path: Path, initialised_root: Path
) -> None:
    root = copy_root(initialised_root, tmp_path / ".skiff")
    pg_port, nats_port = distinct_free_ports(2)
    ports = free_ports(avoid=(pg_port, nats_port))
    arguments = [str(root), str(pg_port), str(nats_port), json.dumps(ports)]
    up = subprocess.Popen(
        [sys.executable, str(RUN_UP), *arguments, "3"],  # 3 s before restarts: a human is quicker
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    by_hand: EmbeddedNats | None = None
    try:
        console = _Console(up)
        assert up.stdout is not None
        banner = ""
        while "Ctrl-C stops everything" not in banner:  # everything is up and watched
            line = up.stdout.readline()
            assert line, f"skiff up ended early:\n{up.communicate()[1]}"
            banner += line
        state = read_state(root / "state.json")
        assert state is not None
        assert state.nats is not None
        os.kill(state.nats.pid, signal.SIGKILL)
        console.wait_for("nats exited unexpectedly")
        by_hand = EmbeddedNats(root / "nats", port=nats_port)
        by_hand.start()  # as an operator would, on the stack's port and store
        console.wait_for("nats was started again elsewhere")
        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0
        console.wait_for("nats stopped (started elsewhere)")
        _wait_for(lambda: by_hand is not None and by_hand.poll() is not None, timeout=10)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
        if by_hand is not None:
            by_hand.stop()
    assert "-9 (SIGKILL)" in console.text
    assert not port_open(nats_port)
    assert not port_open(pg_port)

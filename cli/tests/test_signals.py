"""A real `skiff up` process: it reports crashes on the console and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fakes import FAKE_SERVICE, alive, copy_root
from skiff_cli.config import free_ports
from skiff_cli.probe import port_open
from skiff_cli.state import State, read_state
from skiff_embedded import distinct_free_ports

RUN_UP = FAKE_SERVICE.with_name("run_up.py")


def _wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_crash_is_reported_and_sigterm_stops_everything(
    tmp_path: Path, initialised_root: Path
) -> None:
    root = copy_root(initialised_root, tmp_path / ".skiff")
    pg_port, nats_port = distinct_free_ports(2)
    ports = free_ports(avoid=(pg_port, nats_port))
    command = [sys.executable, str(RUN_UP), str(root), str(pg_port), str(nats_port)]
    up = subprocess.Popen(
        [*command, json.dumps(ports)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert up.stdout is not None
        lines = []
        while "Ctrl-C stops everything" not in "".join(lines):
            line = up.stdout.readline()
            assert line, f"skiff up ended early:\n{up.communicate()[1]}"
            lines.append(line)
        output = "".join(lines)
        assert f"Skiff is up: http://localhost:{ports['gateway']}" in output
        state = read_state(root / "state.json")
        assert state is not None
        assert state.supervisor_pid == up.pid

        billing = next(p for p in state.processes if p.name == "billing")
        assert billing.pid is not None
        os.kill(billing.pid, signal.SIGKILL)

        def restarted() -> bool:
            now = read_state(root / "state.json")
            return now is not None and any(
                p.name == "billing" and p.restarts == 1 and p.pid for p in now.processes
            )

        _wait_for(restarted)
        up.send_signal(signal.SIGTERM)
        assert up.wait(30) == 0
        console = up.stderr.read() if up.stderr else ""
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    assert "service exited unexpectedly" in console
    assert "-9 (SIGKILL)" in console
    assert str(root / "logs" / "billing-0.log") in console
    assert "service restarted" in console
    assert "signal received" in console
    assert "SIGTERM" in console
    assert not (root / "state.json").exists()
    _assert_all_gone(state, pg_port)


def _assert_all_gone(state: State, pg_port: int) -> None:
    assert state.postgres is not None
    assert state.nats is not None
    pids = [p.pid for p in state.processes if p.pid] + [state.postgres.pid, state.nats.pid]
    assert not any(alive(pid) for pid in pids)
    assert not port_open(pg_port)

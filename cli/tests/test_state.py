"""Leftovers of a supervisor that died are stopped, but never a stranger that reused a pid."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from skiff_cli.procinfo import is_running, start_marker
from skiff_cli.state import ProcessState, State, reap_leftovers


def _record(process: subprocess.Popen[bytes], marker: str | None) -> ProcessState:
    return ProcessState("billing", 0, process.pid, 1, 2, time.time(), 0, "billing-0.log", marker)


def test_leftovers_are_stopped_and_strangers_left_alone(tmp_path: Path) -> None:
    leftover = subprocess.Popen(["sleep", "60"])
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        state = State(
            supervisor_pid=999_999,
            supervisor_marker=None,
            started_at=0.0,
            gateway_url="http://localhost:8080",
            processes=[
                _record(leftover, start_marker(leftover.pid)),
                _record(stranger, "1"),  # the recorded start time does not match: not ours
            ],
        )
        assert reap_leftovers(state) == [f"billing-0 (pid {leftover.pid})"]
        assert leftover.wait(5) == -15
        assert stranger.poll() is None
        assert is_running(stranger.pid, start_marker(stranger.pid))
        assert not is_running(stranger.pid, "1")
    finally:
        for process in (leftover, stranger):
            process.kill()
            process.wait()

"""Is a recorded pid still the process we started? (pids get reused after a reboot.)"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def start_marker(pid: int) -> str | None:
    """The kernel's start time of `pid` (Linux), which tells two holders of one pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime); the command name (field 2) may contain spaces, so split after ')'.
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def pid_alive(pid: int) -> bool:
    """True when a process with this pid exists (and is not a zombie we could reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def is_running(pid: int | None, marker: str | None) -> bool:
    """True when `pid` is alive and, where markers are known, still the same process."""
    if pid is None or not pid_alive(pid):
        return False
    if marker is None:
        return True
    current = start_marker(pid)
    return current is None or current == marker


def stop_pid(pid: int, *, sig: signal.Signals = signal.SIGTERM, timeout: float = 10.0) -> None:
    """Signal a process that is not our child, wait for it to go, SIGKILL it if it lingers."""
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return

"""What the docker backend reads from the host's /proc and cgroups (the runner runs beside dockerd).

Killing a command must kill everything it started. The container runtime makes each `docker
exec` process the leader of its own session and process group, and the engine reports its
host pid; so the runner, sharing the host's pid namespace, signals that group directly. Only
processes inside the sandbox's own cgroup are ever signalled, so a stale or reused pid can
never hit anything else on the host.

The memory cgroup's OOM-kill counter tells a process killed by the memory limit from one that
was killed or exited with 137 for another reason.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
_CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class _Stat:
    pid: int
    ppid: int
    pgrp: int
    session: int


def _stat(pid: int) -> _Stat | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: fields start after the last ")".
    fields = text.rsplit(")", 1)[1].split()
    return _Stat(pid=pid, ppid=int(fields[1]), pgrp=int(fields[2]), session=int(fields[3]))


def _in_container(pid: int, container_id: str) -> bool:
    try:
        return container_id in (_PROC / str(pid) / "cgroup").read_text()
    except OSError:
        return False


def _exec_tree(leader: int, container_id: str) -> list[_Stat]:
    """Processes of the container in the leader's session or group, or descending from them."""
    stats = [s for s in map(_stat, _all_pids()) if s is not None]
    chosen = {s.pid for s in stats if leader in (s.pgrp, s.session) or s.pid == leader}
    grew = True
    while grew:
        before = len(chosen)
        chosen |= {s.pid for s in stats if s.ppid in chosen}
        grew = len(chosen) != before
    return [s for s in stats if s.pid in chosen and _in_container(s.pid, container_id)]


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir(_PROC) if name.isdigit()]


def kill_exec_tree(leader: int, container_id: str) -> int:
    """SIGKILL an exec'd command and all it started, inside the container only.

    Repeats while something is left (a fork bomb forks between two scans). Returns how many
    processes were signalled; 0 when nothing was left (or the host pids are not visible).
    """
    signalled = 0
    for _ in range(20):
        tree = _exec_tree(leader, container_id)
        if not tree:
            break
        # Killing the whole group at once stops a fork loop faster than pid by pid.
        if any(s.pgrp == leader for s in tree):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(leader, signal.SIGKILL)
        for process in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
        signalled += len(tree)
    return signalled


def memory_cgroup_counter(container_pid: int) -> Path | None:
    """The file holding the container's OOM-kill count (cgroup v1 or v2), if the host shows it."""
    try:
        lines = (_PROC / str(container_pid) / "cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, controllers, path = line.split(":", 2)
        relative = path.lstrip("/")
        if "memory" in controllers.split(","):
            candidate = _CGROUP_ROOT / "memory" / relative / "memory.oom_control"
        elif hierarchy == "0" and not controllers:
            candidate = _CGROUP_ROOT / relative / "memory.events"
        else:
            continue
        if candidate.is_file():
            return candidate
    return None


def oom_kills(counter: Path | None) -> int | None:
    """How many processes the memory limit has killed so far (None when unknown)."""
    if counter is None:
        return None
    try:
        text = counter.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == "oom_kill":
            return int(value)
    return None

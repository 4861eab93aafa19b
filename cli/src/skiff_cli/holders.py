"""Who holds the stack's servers now, whoever started them: PostgreSQL by its data folder's
`postmaster.pid`, NATS by the process listening on its port (Linux `/proc`)."""

from __future__ import annotations

import os
from pathlib import Path

from skiff_cli.procinfo import pid_alive

_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def process_name(pid: int) -> str | None:
    """The kernel's name of `pid` (`postgres`, `nats-server`), None when it is gone."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return None


def postmaster_pid(data_dir: Path) -> int | None:
    """The live `postgres` serving `data_dir`, from its lock file, whoever started it."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) and process_name(pid) == "postgres" else None


def listening_pid(port: int, name: str) -> int | None:
    """The live process called `name` that listens on TCP `port` (any address), or None."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if process_name(pid) != name:
            continue
        if any(socket in inodes for socket in _socket_inodes(pid)) and pid_alive(pid):
            return pid
    return None


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()  # sl, local address:port (hex), remote, state, ..., inode
            listening = len(fields) > 9 and fields[3] == _LISTEN
            if listening and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> list[str]:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    inodes = []
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if link.startswith("socket:["):
            inodes.append(link[8:-1])
    return inodes

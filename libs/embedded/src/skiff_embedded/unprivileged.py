"""PostgreSQL will not run as root: pick (and create) an unprivileged user when we are root."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

SERVICE_USER = "skiffdb"


def unprivileged_user() -> str | None:
    """None when not root; else the name of a system user to run servers as (created once)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVICE_USER,
            ],
            check=True,
            capture_output=True,
        )
    return SERVICE_USER


def ensure_traversable(path: Path) -> None:
    """Let other users traverse every parent of `path` (adds o+x, never removes a bit)."""
    if os.geteuid() != 0:
        return
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXOTH | stat.S_IXGRP
        if parent == path or parent.name == "bin":
            wanted |= stat.S_IROTH | stat.S_IRGRP
        if wanted != mode:
            parent.chmod(wanted)

"""Helpers the tests share: the fake service command, a fast restart policy, a quick config."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from skiff_cli.config import StackConfig, free_ports
from skiff_cli.credentials import Secrets
from skiff_cli.process import RestartPolicy
from skiff_cli.procinfo import is_running
from skiff_cli.supervisor import Stack
from skiff_embedded.unprivileged import ensure_traversable
from skiff_kit.catalog import SERVICES, ServiceSpec

FAKE_SERVICE = Path(__file__).with_name("fake_service.py")
FAST_RESTART = RestartPolicy(initial_delay=0.05, max_delay=0.2, stable_after=5.0)
SCHEMAS = [spec.schema for spec in SERVICES if spec.schema is not None]


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie awaiting its parent counts as gone)."""
    return is_running(pid, None)


def fake_command(spec: ServiceSpec) -> list[str]:
    """Run the fake service under the catalog name of `spec`."""
    return [sys.executable, str(FAKE_SERVICE), spec.name]


def fake_config(log_dir: Path, **overrides: object) -> StackConfig:
    """A stack of fake services on free ports; PostgreSQL and NATS are not needed to serve."""
    values: dict[str, object] = {
        "admin_dsn": "postgresql://postgres:unused@127.0.0.1:1/postgres",
        "nats_url": "nats://127.0.0.1:1",
        "secrets": Secrets.generate(SCHEMAS),
        "log_dir": log_dir,
        "ports": free_ports(),
        "command": fake_command,
        "restart": FAST_RESTART,
        "health_timeout": 15.0,
        "stop_timeout": 5.0,
    }
    values.update(overrides)
    return StackConfig(**values)  # type: ignore[arg-type]


@contextmanager
def serving(config: StackConfig) -> Iterator[Stack]:
    """A started stack without the database steps (the fakes serve without PostgreSQL)."""
    stack = Stack(config)
    stack.start(prepare=False)
    try:
        yield stack
    finally:
        stack.stop()


def copy_root(template: Path, destination: Path) -> Path:
    """A copy of an initialised state root (data owned by whoever owned the template's)."""
    shutil.copytree(template, destination, symlinks=True)
    for path in [destination, *destination.rglob("*")]:
        source = template / path.relative_to(destination)
        owner = source.lstat()
        os.lchown(path, owner.st_uid, owner.st_gid)
    ensure_traversable(destination)  # PostgreSQL may run as another user
    return destination

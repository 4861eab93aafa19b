"""Clean up after test runs that died, without Ryuk (whose image would have to be pulled).

Every container and network a run makes carries `org.skiff.test-infra.owner=<host>:<pid>`.
A run removes its own at the end of the session; one killed before that leaves them behind,
so each run first removes those whose owner is a process of this host that no longer exists.
Runs of other hosts (another machine sharing the engine) and live runs are never touched.
"""

from __future__ import annotations

import contextlib
import os
import socket

import docker.errors  # type: ignore[import-untyped]
from testcontainers.core.docker_client import DockerClient

OWNER_LABEL = "org.skiff.test-infra.owner"


def owner_labels() -> dict[str, str]:
    """The label that ties a container or network to this process."""
    return {OWNER_LABEL: f"{socket.gethostname()}:{os.getpid()}"}


def reap_orphans() -> None:
    """Remove the containers, then the networks, of runs of this host that are gone."""
    client = DockerClient().client
    with_label = {"label": OWNER_LABEL}
    for container in client.containers.list(all=True, filters=with_label):
        if _orphaned(container.labels.get(OWNER_LABEL, "")):
            with contextlib.suppress(docker.errors.APIError):  # another run reaped it first
                container.remove(force=True)
    for network in client.networks.list(filters=with_label):
        if _orphaned((network.attrs.get("Labels") or {}).get(OWNER_LABEL, "")):
            with contextlib.suppress(docker.errors.APIError):
                network.remove()


def _orphaned(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False

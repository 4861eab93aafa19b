"""On a 3-node JetStream cluster: the bootstrap's replica count sticks; services never shrink it.

Three nats-server processes from the wheel, clustered over loopback (as the prod overlay runs
them in Kubernetes), started for this module only.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from skiff_embedded.nats import nats_server_bin
from skiff_embedded.ports import distinct_free_ports
from skiff_messaging import ensure_streams


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Client URLs of a fresh 3-node JetStream cluster.

    Ports come from `free_port()`, which another process may take before a node binds it; a
    cluster that does not form is torn down and started again on fresh ports (three tries), and
    the last try's server logs are shown when it still does not.
    """
    problems: list[str] = []
    for attempt in range(3):
        nodes = _start_cluster(tmp_path_factory, attempt)
        try:
            if _formed(nodes, timeout=40):
                yield [f"nats://127.0.0.1:{node.client}" for node in nodes]
                return
            problems = [node.describe() for node in nodes]
        finally:
            for node in nodes:
                node.stop()
    raise AssertionError("the NATS cluster did not form in three tries:\n" + "\n".join(problems))


class _Node:
    def __init__(self, index: int, store: Path, ports: tuple[int, int, int], routes: str) -> None:
        self.client, cluster_port, self.monitor = ports
        self.log_path = store / "server.log"
        command = [str(nats_server_bin()), "-js", "-sd", str(store), "-a", "127.0.0.1"]
        command += ["-p", str(self.client), "-m", str(self.monitor), "-n", f"node{index}"]
        command += ["--cluster_name", "skiff", "--cluster", f"nats://127.0.0.1:{cluster_port}"]
        command += ["--routes", routes]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def describe(self) -> str:
        tail = self.log_path.read_text(errors="replace").splitlines()[-15:]
        state = "running" if self.process.poll() is None else f"exited {self.process.returncode}"
        return f"node on :{self.client} ({state}):\n  " + "\n  ".join(tail)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _start_cluster(tmp_path_factory: pytest.TempPathFactory, attempt: int) -> list[_Node]:
    flat = distinct_free_ports(9)
    ports = [(flat[i], flat[i + 1], flat[i + 2]) for i in range(0, 9, 3)]
    routes = ",".join(f"nats://127.0.0.1:{cluster}" for _, cluster, _ in ports)
    return [
        _Node(index, tmp_path_factory.mktemp(f"nats{attempt}-{index}"), node_ports, routes)
        for index, node_ports in enumerate(ports)
    ]


def _formed(nodes: list[_Node], *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    for node in nodes:
        while not _healthy(node.monitor):
            if time.monotonic() > deadline or node.process.poll() is not None:
                return False
            time.sleep(0.2)
    return True


def _healthy(monitor: int) -> bool:
    url = f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


@pytest.fixture
async def nats(cluster: list[str]) -> AsyncIterator[NATS]:
    client = NATS()
    await client.connect(servers=cluster, connect_timeout=2)
    yield client
    await client.close()


async def replicas(nats: NATS, name: str) -> int:
    for _ in range(50):  # a new cluster elects its meta leader first
        try:
            return int((await nats.jetstream().stream_info(name)).config.num_replicas or 1)
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError(f"no stream {name}")


async def test_bootstrap_creates_streams_with_three_replicas_and_services_keep_them(
    nats: NATS,
) -> None:
    js = nats.jetstream()
    for _ in range(50):
        try:
            await ensure_streams(js, ["IDENTITY", "BILLING"], replicas=3)
            break
        except Exception:  # no JetStream meta leader yet
            await asyncio.sleep(0.2)
    assert await replicas(nats, "IDENTITY") == 3
    await ensure_streams(js, ["IDENTITY", "BILLING"])  # what every service does on start
    assert await replicas(nats, "IDENTITY") == 3
    assert await replicas(nats, "BILLING") == 3


async def test_a_service_creates_a_missing_stream_with_one_and_bootstrap_scales_it(
    nats: NATS,
) -> None:
    js = nats.jetstream()
    for _ in range(50):
        try:
            await ensure_streams(js, ["GATEWAY"])
            break
        except Exception:
            await asyncio.sleep(0.2)
    assert await replicas(nats, "GATEWAY") == 1
    await ensure_streams(js, ["GATEWAY"], replicas=3)
    assert await replicas(nats, "GATEWAY") == 3

"""Sandbox benchmark: sessions and tasks through the whole stack vs raw aiodocker, in one run.

`uv run python bench/sandbox/run.py [--rounds 8]` (`make bench-sandbox`). Needs a Docker engine
and the sandbox image (`make docker-engine sandbox-image`). Starts PostgreSQL and NATS from the
wheels and every service as a process (the sandbox-runner on the docker backend with a warm
pool), then, interleaving the two sides of each comparison round by round:

- cold create→running: `POST /api/v1/sessions` with a spec the warm pool cannot serve, polled
  until `running`, vs a bare create+start of the same image and limits through aiodocker;
- warm create→running: the same with the pool's spec (pool refilled between rounds);
- task round trip: `POST /tasks?wait=true` of `echo hi` until its exit code, vs a raw aiodocker
  exec (create, start, read to EOF, inspect) in the same container;
- time to first output byte: task submitted to the first `output` event of its SSE stream
  (opened after the submit, as a client would), vs raw exec start to its first byte.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiodocker
import httpx
from skiff_cli.config import StackConfig, free_ports
from skiff_cli.credentials import Secrets
from skiff_cli.process import RestartPolicy
from skiff_cli.supervisor import Stack
from skiff_embedded import EmbeddedNats, EmbeddedPostgres, free_port
from skiff_kit.catalog import SERVICES
from skiff_testing.signup import signed_in

IMAGE = "skiff-sandbox:latest"
WARM_MEMORY_MB = 512  # the runner's default spec: what the warm pool holds
COLD_MEMORY_MB = 640  # any other spec starts a fresh container
POLL_SECONDS = 0.005


def stack_config(admin_dsn: str, nats_url: str, root: Path, warm_pool: int) -> StackConfig:
    schemas = [spec.schema for spec in SERVICES if spec.schema]
    return StackConfig(
        admin_dsn=admin_dsn,
        nats_url=nats_url,
        secrets=Secrets.generate(schemas),
        log_dir=root / "logs",
        sandbox_dir=root / "sandboxes",
        ports=free_ports(),
        restart=RestartPolicy(enabled=False),
        log_level="warning",
        extra_env={
            "SKIFF_BACKEND": "docker",
            "SKIFF_WARM_POOL_SIZE": str(warm_pool),
            "SKIFF_DEFAULT_MEMORY_MB": str(WARM_MEMORY_MB),
            "SKIFF_PASSWORD_TIME_COST": "1",
            "SKIFF_PASSWORD_MEMORY_KIB": "8192",
            "SKIFF_RATELIMIT_USER_PER_HOUR": "1000000000",
            "SKIFF_RATELIMIT_KEY_PER_MINUTE": "1000000000",
            "SKIFF_RATELIMIT_ANONYMOUS_PER_HOUR": "1000000000",
        },
        health_timeout=120.0,
    )


async def create_until_running(client: httpx.AsyncClient, memory_mb: int) -> tuple[float, str]:
    """Seconds from POST /sessions to the session reading `running`, and its id."""
    started = time.perf_counter()
    created = await client.post("/api/v1/sessions", json={"resources": {"memory_mb": memory_mb}})
    created.raise_for_status()
    session_id = created.json()["id"]
    while True:
        status = (await client.get(f"/api/v1/sessions/{session_id}")).json()["status"]
        if status == "running":
            return time.perf_counter() - started, session_id
        if status not in ("starting",):
            raise RuntimeError(f"session {session_id} became {status}")
        await asyncio.sleep(POLL_SECONDS)


async def bare_start(docker: aiodocker.Docker, memory_mb: int, workspace: Path) -> float:
    """Seconds to create and start the same image with the same limits through aiodocker."""
    await asyncio.to_thread(workspace.mkdir, parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "Image": IMAGE,
        "Cmd": ["sleep", "infinity"],
        "User": "1000:1000",
        "Labels": {"skiff.bench": "bare"},
        "HostConfig": {
            "CapDrop": ["ALL"],
            "SecurityOpt": ["no-new-privileges"],
            "ReadonlyRootfs": True,
            "NetworkMode": "none",
            "PidsLimit": 256,
            "Memory": memory_mb * 1024 * 1024,
            "MemorySwap": memory_mb * 1024 * 1024,
            "NanoCpus": 1_000_000_000,
            "Binds": [f"{workspace}:/workspace"],
            "Tmpfs": {"/tmp": "size=64m"},
            "Init": True,
        },
    }
    started = time.perf_counter()
    container = await docker.containers.run(config)
    elapsed = time.perf_counter() - started
    await container.delete(force=True)
    return elapsed


async def api_round_trip(client: httpx.AsyncClient, session_id: str) -> float:
    started = time.perf_counter()
    answer = await client.post(
        f"/api/v1/sessions/{session_id}/tasks?wait=true", json={"command": "echo hi"}
    )
    elapsed = time.perf_counter() - started
    answer.raise_for_status()
    if answer.json()["exit_code"] != 0 or answer.json()["stdout"] != "hi\n":
        raise RuntimeError(f"unexpected task result {answer.text}")
    return elapsed


async def api_first_byte(client: httpx.AsyncClient, session_id: str) -> float:
    """Task submitted → its first `output` event, read from the task's SSE stream."""
    started = time.perf_counter()
    submitted = await client.post(
        f"/api/v1/sessions/{session_id}/tasks", json={"command": "echo hi"}
    )
    submitted.raise_for_status()
    task_id = submitted.json()["id"]
    async with client.stream("GET", f"/api/v1/tasks/{task_id}/stream") as response:
        async for line in response.aiter_lines():
            if line.startswith("event:") and line[6:].strip() == "output":
                return time.perf_counter() - started
    raise RuntimeError(f"task {task_id} ended without output")


async def raw_exec(container: Any) -> tuple[float, float]:
    """(round trip, first byte) of `echo hi` through the Docker exec API."""
    started = time.perf_counter()
    execution = await container.exec(["/bin/sh", "-c", "echo hi"], stdout=True, stderr=True)
    first = None
    async with execution.start(detach=False) as stream:
        while await stream.read_out() is not None:
            if first is None:
                first = time.perf_counter() - started
    exit_code = (await execution.inspect())["ExitCode"]
    if exit_code != 0:
        raise RuntimeError(f"raw exec exited {exit_code}")
    return time.perf_counter() - started, first or 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def show(name: str, values: list[float]) -> None:
    print(
        f"  {name:<34} p50 {pct(values, 0.5) * 1000:8.1f} ms"
        f"   p99 {pct(values, 0.99) * 1000:8.1f} ms   (n={len(values)})"
    )


async def measure(base_url: str, rounds: int, scratch: Path) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {
        k: [] for k in ("cold", "bare", "warm", "api_task", "raw_task", "api_first", "raw_first")
    }
    client, _ = await signed_in(base_url)
    docker = aiodocker.Docker()
    try:
        _, warm_up = await create_until_running(client, COLD_MEMORY_MB)  # imports, connections
        await client.delete(f"/api/v1/sessions/{warm_up}")
        for i in range(rounds):
            seconds, cold_id = await create_until_running(client, COLD_MEMORY_MB)
            results["cold"].append(seconds)
            results["bare"].append(await bare_start(docker, COLD_MEMORY_MB, scratch / f"b{i}"))
            await asyncio.sleep(1.0)  # the pool refills after each warm claim
            seconds, warm_id = await create_until_running(client, WARM_MEMORY_MB)
            results["warm"].append(seconds)

            [container] = await docker.containers.list(
                filters={"label": [f"skiff.session={cold_id}"]}
            )
            for _ in range(3):
                results["api_task"].append(await api_round_trip(client, cold_id))
                round_trip, first = await raw_exec(container)
                results["raw_task"].append(round_trip)
                results["raw_first"].append(first)
                results["api_first"].append(await api_first_byte(client, cold_id))
            for session_id in (cold_id, warm_id):
                await client.delete(f"/api/v1/sessions/{session_id}")
            print(f"  round {i + 1}/{rounds} done", file=sys.stderr)
    finally:
        await client.aclose()
        await docker.close()
    return results


def report(results: dict[str, list[float]]) -> None:
    print("\nsandbox benchmark (docker backend, one run, interleaved)")
    for name, label in (
        ("bare", "bare aiodocker create+start"),
        ("cold", "API create→running (cold)"),
        ("warm", "API create→running (warm pool)"),
        ("raw_task", "raw aiodocker exec `echo hi`"),
        ("api_task", "API task round trip `echo hi`"),
        ("raw_first", "raw exec first byte"),
        ("api_first", "API task first output byte (SSE)"),
    ):
        show(label, results[name])
    cold = statistics.median(results["cold"]) / statistics.median(results["bare"])
    warm_ms = statistics.median(results["warm"]) * 1000
    task = statistics.median(results["api_task"]) / statistics.median(results["raw_task"])
    first = statistics.median(results["api_first"]) / statistics.median(results["raw_first"])
    print(f"  first output byte, API vs raw: {first:.2f}x (reported, no target)")
    print(f"target cold_create_to_running: {cold:.2f}x bare (goal <= 1.20x) {_met(cold <= 1.2)}")
    print(
        f"target warm_create_to_running_p50: {warm_ms:.0f} ms (goal < 150 ms) {_met(warm_ms < 150)}"
    )
    print(f"target task_round_trip: {task:.2f}x raw exec (goal <= 1.50x) {_met(task <= 1.5)}")


def _met(ok: bool) -> str:
    return "met" if ok else "missed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--warm-pool", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="skiff-bench-sandbox-") as tmp:
        root = Path(tmp)
        postgres = EmbeddedPostgres(
            root / "postgres", port=free_port(), admin_password=secrets.token_hex(8)
        )
        nats = EmbeddedNats(root / "nats", port=free_port())
        postgres.start()
        nats.start()
        try:
            config = stack_config(postgres.admin_dsn, nats.url, root, args.warm_pool)
            with Stack(config) as stack:
                results = asyncio.run(measure(stack.gateway_url, args.rounds, root / "bare"))
        finally:
            nats.stop()
            postgres.stop()
    report(results)


if __name__ == "__main__":
    main()

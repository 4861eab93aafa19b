"""Compose benchmark: `docker compose up` → gateway /ready 200, next to `make run` in the same run.

`uv run python bench/compose/run.py [--rounds 2]` (`make bench-compose`), after `make images`.
Each round, in turn: the compose stack from fresh volumes (first start: secrets, initdb,
migrations), the same stack again with its volumes kept (a restart), and `skiff up` (what
`make run` runs) on a fresh state root and free ports. Every figure is from launching the
command to the gateway's first 200 on /ready; the gateway starts only once every service is
healthy, so that is the whole stack ready. Everything it starts is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from skiff_embedded import distinct_free_ports, free_port

ROOT = Path(__file__).resolve().parents[2]
GOAL_SECONDS = 30.0
PROJECT = f"skiff-bench-{os.getpid()}"


def wait_ready(port: int, started: float, timeout: float = 180.0) -> float:
    """Seconds from `started` to the first 200 from the gateway's /ready."""
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"the gateway on port {port} was not ready within {timeout:.0f} s")


class Compose:
    """The compose stack of this run, on a free gateway port and a temp sandbox root."""

    def __init__(self, scratch: Path) -> None:
        found = subprocess.run(
            [str(ROOT / "scripts" / "compose.sh")], check=True, capture_output=True, text=True
        )
        self.command = [*shlex.split(found.stdout.strip()), "-p", PROJECT]
        self.port = free_port()
        self.runner_id = f"bench-{os.getpid()}"
        self.env = {
            **os.environ,
            "SKIFF_GATEWAY_PORT": str(self.port),
            "SKIFF_SANDBOX_ROOT": str(scratch / "sandboxes"),
            "SKIFF_RUNNER_ID": self.runner_id,
        }

    def run(self, *args: str) -> None:
        subprocess.run(
            [*self.command, *args], cwd=ROOT, env=self.env, check=True, capture_output=True
        )

    def up_to_ready(self) -> float:
        started = time.monotonic()
        self.run("up", "-d")
        return wait_ready(self.port, started)

    def down(self, *, volumes: bool) -> None:
        self.run("down", "--timeout", "20", *(["-v"] if volumes else []))

    def clean(self) -> None:
        subprocess.run(
            [*self.command, "down", "-v", "--remove-orphans", "--timeout", "20"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            check=False,
        )
        leftovers = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=skiff.runner={self.runner_id}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        if leftovers:
            subprocess.run(["docker", "rm", "-f", *leftovers], capture_output=True, check=False)


def embedded_up_to_ready(scratch: Path) -> float:
    """`skiff up` (as `make run`) on a fresh root and free ports, until its gateway is ready."""
    root = Path(tempfile.mkdtemp(prefix="root-", dir=scratch))
    names = ("gateway", "identity", "billing", "orchestrator", "sandbox_runner", "notification")
    # None is bound until its process starts, so all eight must differ.
    *service_ports, pg_port, nats_port = distinct_free_ports(len(names) + 2)
    ports = dict(zip(names, service_ports, strict=True))
    launcher = (
        "import json, sys; from pathlib import Path; "
        "from skiff_cli.up import UpOptions, run_up; "
        "raise SystemExit(run_up(UpOptions(root=Path(sys.argv[1]), pg_port=int(sys.argv[2]), "
        "nats_port=int(sys.argv[3]), ports=json.loads(sys.argv[4]))))"
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            launcher,
            str(root),
            str(pg_port),
            str(nats_port),
            json.dumps(ports),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return wait_ready(ports["gateway"], started)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def images_missing() -> list[str]:
    version = "0.1.0"
    wanted = [f"skiff:{version}", "skiff-sandbox:latest"]
    return [
        image
        for image in wanted
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    missing = images_missing()
    if missing:
        print(f"missing images {', '.join(missing)}: run `make images` first", file=sys.stderr)
        return 1
    scratch = Path(tempfile.mkdtemp(prefix="skiff-bench-compose-"))
    compose = Compose(scratch)
    results: dict[str, list[float]] = {"cold": [], "warm": [], "embedded": []}
    try:
        for i in range(rounds):
            results["cold"].append(compose.up_to_ready())
            compose.down(volumes=False)
            results["warm"].append(compose.up_to_ready())
            compose.down(volumes=True)
            results["embedded"].append(embedded_up_to_ready(scratch))
            print(f"  round {i + 1}/{rounds} done", file=sys.stderr)
    finally:
        compose.clean()
        shutil.rmtree(scratch, ignore_errors=True)
    report(results, " ".join(compose.command[:-2]))
    return 0


def report(results: dict[str, list[float]], tool: str) -> None:
    cold, embedded = statistics.median(results["cold"]), statistics.median(results["embedded"])
    print(f"\ncompose benchmark ({tool}; {os.cpu_count()} cores; medians, rounds interleaved)")
    for label, key in (
        ("compose up, fresh volumes", "cold"),
        ("compose up, volumes kept", "warm"),
        ("make run (skiff up), fresh root", "embedded"),
    ):
        each = ", ".join(f"{seconds:.1f}" for seconds in results[key])
        print(f"  {label:34} → /ready 200 {statistics.median(results[key]):6.1f} s  ({each})")
    print(f"  compose fresh vs make run: {cold / embedded:.2f}x (reported, no target)")
    verdict = "met" if cold <= GOAL_SECONDS else "missed"
    print(f"target compose_up_to_ready: {cold:.1f} s (goal <= {GOAL_SECONDS:.0f} s) {verdict}")


if __name__ == "__main__":
    raise SystemExit(main())

"""`make compose-test`: docker-compose.yml for real, from the built images, then down -v.

up (with the payments profile: the Stripe and Polar stand-ins) → every container healthy → the
first flow through the gateway on localhost (register → signup bonus on the balance → welcome
notification; a session running, a task's output; 1000 credits bought at the Stripe stand-in)
→
`down -v`, always, even when a step fails or the run is interrupted. Sandbox containers the
runner left are removed too, and the sandboxes' workspace root is a temp folder of this run.
Env: SKIFF_GATEWAY_PORT (default 8080), COMPOSE (else scripts/compose.sh picks or installs).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parent.parent
PROJECT = f"skiff-compose-test-{os.getpid()}"
T = TypeVar("T")
STANDIN_PORT = 8090
# What .env.example says to set for `--profile payments`.
STANDIN_SETTINGS = {
    "SKIFF_STANDIN_PORT": str(STANDIN_PORT),
    "SKIFF_STRIPE_API_KEY": "sk_test_standin",
    "SKIFF_STRIPE_API_BASE": "http://payments-standins:8090/stripe",
    "SKIFF_STRIPE_WEBHOOK_SECRET": "whsec_compose_standin",
    "SKIFF_POLAR_API_KEY": "polar_oat_standin",
    "SKIFF_POLAR_API_BASE": "http://payments-standins:8090/polar",
    "SKIFF_POLAR_WEBHOOK_SECRET": "polar_whs_compose_standin",
    "SKIFF_POLAR_PRODUCT_ID": "prod_standin_credits",
}


def say(message: str) -> None:
    print(f"compose-test: {message}", flush=True)


class Stack:
    """One compose project of this run: its command, environment and clean-up."""

    def __init__(self, port: int, sandbox_root: Path) -> None:
        found = subprocess.run(
            [str(ROOT / "scripts" / "compose.sh")], check=True, capture_output=True, text=True
        )
        self.command = [*shlex.split(found.stdout.strip()), "-p", PROJECT]
        self.runner_id = f"compose-test-{os.getpid()}"
        self.env = {
            **os.environ,
            "SKIFF_GATEWAY_PORT": str(port),
            "SKIFF_SANDBOX_ROOT": str(sandbox_root),
            "SKIFF_RUNNER_ID": self.runner_id,
            "COMPOSE_PROFILES": "payments",
            **STANDIN_SETTINGS,
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            cwd=ROOT,
            env=self.env,
            check=check,
            capture_output=True,
            text=True,
        )

    def containers(self) -> dict[str, dict[str, Any]]:
        """Each container of the project (running or exited) by service: its state."""
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        if not ids:
            return {}
        inspected = json.loads(
            subprocess.run(
                ["docker", "inspect", *ids], check=True, capture_output=True, text=True
            ).stdout
        )
        return {
            item["Config"]["Labels"]["com.docker.compose.service"]: item["State"]
            for item in inspected
        }

    def down(self) -> None:
        self.run("down", "-v", "--remove-orphans", "--timeout", "20", check=False)
        leftovers = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label=skiff.runner={self.runner_id}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        if leftovers:
            subprocess.run(["docker", "rm", "-f", *leftovers], capture_output=True, check=False)


ONE_SHOTS = {"secrets", "migrate"}


def wait_healthy(stack: Stack, timeout: float = 180.0) -> float:
    """Until every long-running container is healthy (or running, for NATS) and the one-shots
    exited 0; returns the seconds it took. Raises naming what was not ready."""
    started = time.monotonic()
    while True:
        states = stack.containers()
        waiting = []
        for name, state in states.items():
            if name in ONE_SHOTS:
                if state["Status"] == "exited" and state["ExitCode"] != 0:
                    raise AssertionError(f"{name} exited with {state['ExitCode']}")
                if state["Status"] != "exited":
                    waiting.append(name)
            elif "Health" in state:
                if state["Health"]["Status"] != "healthy":
                    waiting.append(f"{name} ({state['Health']['Status']})")
            elif state["Status"] != "running":
                waiting.append(f"{name} ({state['Status']})")
        if len(states) >= 10 and not waiting:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not healthy after {timeout:.0f} s: {', '.join(waiting)}")
        time.sleep(1)


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll `probe` until it returns something; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.5)


def first_flow(base: str) -> None:
    """What README's first flow does, checked at each step."""
    with httpx.Client(base_url=base, timeout=40.0) as client:
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        account = {"email": "ada@example.com", "password": "correct-horse-42", "name": "Ada"}
        registered = client.post("/api/v1/auth/register", json=account)
        assert registered.status_code == 201, registered.text
        login = client.post(
            "/api/v1/auth/login", json={k: account[k] for k in ("email", "password")}
        )
        assert login.status_code == 200, login.text
        auth = {"authorization": f"Bearer {login.json()['session']['access_token']}"}

        def bonus() -> int | None:
            balance = client.get("/api/v1/credits/balance", headers=auth)
            credits = balance.json().get("credits") if balance.status_code == 200 else None
            return credits if credits else None

        say(f"signup bonus: {eventually('the signup bonus on the balance', bonus)} credits")

        def welcome() -> str | None:
            listed = client.get("/api/v1/notifications", headers=auth)
            kinds = [n["type"] for n in listed.json().get("data", [])] if listed.is_success else []
            return "welcome" if "welcome" in kinds else None

        say(f"notification: {eventually('the welcome notification', welcome)}")
        created = client.post("/api/v1/sessions", headers=auth, json={"timeout_seconds": 600})
        assert created.status_code in (200, 201, 202), created.text
        session_id = created.json()["id"]

        def running() -> str | None:
            status = client.get(f"/api/v1/sessions/{session_id}", headers=auth).json()["status"]
            assert status not in ("failed", "stopped"), f"session {session_id} is {status}"
            return status if status == "running" else None

        eventually("the session running", running, timeout=90)
        task = client.post(
            f"/api/v1/sessions/{session_id}/tasks?wait=true",
            headers=auth,
            json={"command": "python3 -c 'print(6*7)'"},
        )
        assert task.status_code in (200, 201), task.text
        body = task.json()
        assert (body["status"], body["exit_code"], body["stdout"]) == ("succeeded", 0, "42\n"), body
        say(f"task in the session: {body['stdout'].strip()} ({body['duration_ms']} ms)")
        stopped = client.delete(f"/api/v1/sessions/{session_id}", headers=auth)
        assert stopped.status_code in (200, 202, 204), stopped.text
        buy_credits(client, auth)


def buy_credits(client: httpx.Client, auth: dict[str, str]) -> None:
    """1000 credits through the Stripe stand-in: checkout, Pay on its page, the webhook."""
    before = client.get("/api/v1/credits/balance", headers=auth).json()["credits"]
    checkout = client.post(
        "/api/v1/billing/checkout", headers=auth, json={"package_id": "pkg_1000"}
    )
    assert checkout.status_code == 201, checkout.text
    page = checkout.json()["url"].replace("localhost", "127.0.0.1")
    paid = httpx.post(page, data={"action": "pay"}, timeout=30.0)
    assert paid.status_code in (200, 303), paid.text

    def credited() -> int | None:
        credits = client.get("/api/v1/credits/balance", headers=auth).json()["credits"]
        return credits if credits == before + 1000 else None

    say(f"bought 1000 credits at the Stripe stand-in: {eventually('the credits', credited)}")


def main() -> int:
    port = int(os.environ.get("SKIFF_GATEWAY_PORT", "8080"))
    scratch = Path(tempfile.mkdtemp(prefix="skiff-compose-test-"))
    stack = Stack(port, scratch / "sandboxes")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` cleans up
    say(f"{' '.join(stack.command)} up (gateway on 127.0.0.1:{port})")
    try:
        began = time.monotonic()
        up = stack.run("up", "-d", check=False)
        if up.returncode != 0:
            raise AssertionError(f"compose up failed:\n{up.stderr[-3000:]}")
        healthy = wait_healthy(stack)
        say(f"every container healthy {time.monotonic() - began:.1f} s after up ({healthy:.1f} s)")
        first_flow(f"http://127.0.0.1:{port}")
    except (AssertionError, httpx.HTTPError, subprocess.CalledProcessError) as error:
        say(f"FAILED: {error}")
        logs = stack.run("logs", "--no-color", "--tail", "40", check=False)
        print(logs.stdout[-20000:], file=sys.stderr)
        return 1
    finally:
        say("down -v")
        stack.down()
        shutil.rmtree(scratch, ignore_errors=True)
    say("passed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

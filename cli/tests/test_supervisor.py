"""The supervisor starts, watches, restarts and stops real processes (fake services)."""

from __future__ import annotations

import http.client
import json
import signal
from pathlib import Path

import pytest
import structlog
from fakes import alive, fake_config, serving
from skiff_cli.errors import StackError
from skiff_cli.process import RestartPolicy
from skiff_cli.supervisor import Stack


def _get_json(port: int, path: str) -> dict[str, object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return dict(json.loads(connection.getresponse().read()))
    finally:
        connection.close()


def _environment(log_path: Path) -> dict[str, str]:
    lines = [line for line in log_path.read_text().splitlines() if line.startswith("ENV ")]
    return dict(json.loads(lines[-1][4:]))


def test_starts_every_replica_and_all_answer_health(tmp_path: Path) -> None:
    config = fake_config(tmp_path, scale={"gateway": 2, "sandbox_runner": 0})
    with serving(config) as stack:
        gateways = stack.processes("gateway")
        assert [h.replica for h in gateways] == [0, 1]
        assert gateways[0].port == gateways[1].port == config.port("gateway")
        handles = stack.processes()
        assert len({h.private_port for h in handles}) == len(handles) == 6
        assert stack.processes("sandbox_runner") == []
        for handle in handles:
            assert handle.alive
            body = _get_json(handle.private_port, "/health")
            assert body == {"status": "ok", "service": handle.name, "pid": handle.pid}
        # A fresh connection each time, so the kernel spreads them over the replicas.
        answered = {_get_json(config.port("gateway"), "/health")["pid"] for _ in range(40)}
        assert answered == {h.pid for h in gateways}
        environment = _environment(gateways[1].log_path)
        assert environment["SKIFF_PRIVATE_PORT"] == str(gateways[1].private_port)
        assert environment["SKIFF_REPLICA"] == "1"


def test_a_crashed_process_is_restarted_and_the_crash_logged(tmp_path: Path) -> None:
    with serving(fake_config(tmp_path)) as stack:
        before = stack.processes("billing")[0]
        with structlog.testing.capture_logs() as logs:
            stack.kill("billing")
            stack.wait_healthy(timeout=10)
        after = stack.processes("billing")[0]
        assert after.alive
        assert after.pid != before.pid
        assert after.restarts == 1
        crash = next(e for e in logs if e["event"] == "service exited unexpectedly")
        assert crash["process"] == "billing-0"
        assert crash["exit_code"] == "-9 (SIGKILL)"
        assert crash["log"] == str(before.log_path)
        assert any(e["event"] == "service restarted" and e["pid"] == after.pid for e in logs)
        assert before.log_path.read_text().count("--- skiff: starting billing-0") == 2


def test_without_restarts_a_killed_process_stays_down_until_restarted(tmp_path: Path) -> None:
    config = fake_config(tmp_path, restart=RestartPolicy(enabled=False))
    with serving(config) as stack:
        stack.kill("identity", sig=signal.SIGTERM)
        with pytest.raises(StackError, match="identity-0 exited with 0"):
            stack.wait_healthy(timeout=5)
        down = stack.processes("identity")[0]
        assert (down.alive, down.exit_code) == (False, 0)
        again = stack.restart("identity")
        stack.wait_healthy(timeout=10)
        assert again.alive
        assert stack.processes("identity")[0].pid == again.pid


def test_a_crash_looping_service_fails_start_with_its_log(tmp_path: Path) -> None:
    config = fake_config(
        tmp_path, extra_env={"FAKE_EXIT_AT_START": "notification"}, health_timeout=1.5
    )
    stack = Stack(config)
    with pytest.raises(StackError, match="notification-0") as failure:
        stack.start(prepare=False)
    assert "notification: cannot start, giving up" in str(failure.value)
    assert stack.processes("notification")[0].restarts >= 2
    assert not any(h.alive for h in stack.processes())


def test_stop_terminates_everything_even_a_process_ignoring_sigterm(tmp_path: Path) -> None:
    config = fake_config(tmp_path, extra_env={"FAKE_IGNORE_TERM": "orchestrator"}, stop_timeout=0.5)
    stack = Stack(config)
    stack.start(prepare=False)
    pids = [h.pid for h in stack.processes() if h.pid is not None]
    assert len(pids) == 6
    stack.stop()
    assert not any(alive(pid) for pid in pids)
    assert all(not h.alive for h in stack.processes())
    assert "orchestrator stopped" not in (tmp_path / "orchestrator-0.log").read_text()
    assert "billing stopped" in (tmp_path / "billing-0.log").read_text()

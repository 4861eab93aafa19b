"""Back-off of restarts, and how exits are described."""

from __future__ import annotations

from pathlib import Path

from skiff_cli.process import ManagedProcess, RestartPolicy, describe_exit


def _process(tmp_path: Path) -> ManagedProcess:
    return ManagedProcess(
        name="billing",
        replica=0,
        port=1,
        private_port=2,
        command=["true"],
        environment={},
        log_path=tmp_path / "billing-0.log",
    )


def test_restart_delays_double_up_to_the_maximum(tmp_path: Path) -> None:
    process, policy = _process(tmp_path), RestartPolicy()
    delays = []
    for second in range(8):
        process.started_monotonic = float(second)  # each run lasted well under a minute
        delays.append(process.mark_exited(1, policy, now=second + 0.5))
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert process.restart_at == 7.5 + 30


def test_a_minute_of_stable_running_resets_the_delay(tmp_path: Path) -> None:
    process, policy = _process(tmp_path), RestartPolicy()
    for _ in range(4):
        process.mark_exited(1, policy, now=process.started_monotonic + 1)
    process.started_monotonic = 1000.0
    assert process.mark_exited(1, policy, now=1000.0 + 61) == 1
    process.started_monotonic = 1062.0  # then it crashes quickly again
    assert process.mark_exited(1, policy, now=1063.0) == 2


def test_no_restart_when_the_policy_is_off(tmp_path: Path) -> None:
    process = _process(tmp_path)
    assert process.mark_exited(3, RestartPolicy(enabled=False), now=10.0) is None
    assert (process.restart_at, process.exit_code) == (None, 3)
    assert process.handle().exit_code == 3
    assert not process.handle().alive


def test_exit_codes_name_the_signal() -> None:
    assert describe_exit(3) == "3"
    assert describe_exit(-9) == "-9 (SIGKILL)"
    assert describe_exit(-15) == "-15 (SIGTERM)"

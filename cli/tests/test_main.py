"""The command line: parsing `--scale`, and `status` when nothing (or a dead supervisor) runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from skiff_cli.main import main, parse_scale
from skiff_cli.state import State, write_state
from skiff_cli.table import duration


def test_scale_accepts_names_with_dashes_and_rejects_unknown_ones() -> None:
    assert parse_scale(["gateway=2", "sandbox-runner=0"]) == {"gateway": 2, "sandbox_runner": 0}
    with pytest.raises(ValueError, match="expected NAME=N"):
        parse_scale(["gateway"])
    with pytest.raises(ValueError, match="unknown service 'payments'"):
        parse_scale(["payments=2"])


def test_up_with_a_bad_scale_fails_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["up", "--root", str(tmp_path / "s"), "--scale", "gateway=two"]) == 1
    assert "expected NAME=N" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_status_without_state_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--root", str(tmp_path)]) == 1
    assert "skiff is not running" in capsys.readouterr().out


def test_status_with_a_dead_supervisor_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(gone.stdout)
    write_state(tmp_path / "state.json", State(pid, None, 0.0, "http://localhost:8080"))
    assert main(["status", "--root", str(tmp_path)]) == 1
    assert f"the supervisor (pid {pid}) is gone" in capsys.readouterr().out


def test_durations_read_well() -> None:
    assert [duration(s) for s in (5, 185, 7620, 3 * 86400 + 4 * 3600)] == [
        "5s", "3m05s", "2h07m", "3d04h",
    ]  # fmt: skip

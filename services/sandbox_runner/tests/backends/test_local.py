"""The local backend: commands run in the workspace, and kill/pause/remove reach every child."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from backend_helpers import run
from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_sandbox_runner.backends.base import BackendError, ExitStatus, Sandbox
from skiff_sandbox_runner.backends.local import LocalBackend, LocalProcess

SPEC = SandboxSpec(
    image="local",
    cpu=1.0,
    memory_mb=256,
    network="none",
    timeout_seconds=600,
    idle_timeout_seconds=300,
    env={"FROM_SPEC": "spec", "BOTH": "spec"},
)


@pytest.fixture
def backend(tmp_path: Path) -> LocalBackend:
    return LocalBackend("runner-a", tmp_path / "workspaces")


@pytest.fixture
async def sandbox(backend: LocalBackend) -> Sandbox:
    return await backend.start("sbx_local1", SPEC, "ses_1")


async def test_exec_gives_output_exit_code_env_and_cwd(
    backend: LocalBackend, sandbox: Sandbox
) -> None:
    (sandbox.workspace / "sub").mkdir()
    stdout, stderr, status = await run(
        backend,
        sandbox,
        'echo "$FROM_SPEC $BOTH $FROM_EXEC"; pwd; echo oops >&2; exit 3',
        env={"FROM_EXEC": "exec", "BOTH": "exec"},
        cwd="sub",
    )
    assert stdout.splitlines() == ["spec exec exec", str(sandbox.workspace / "sub")]
    assert stderr == "oops\n"
    assert status == ExitStatus(exit_code=3)


async def test_stdin_reaches_the_command(backend: LocalBackend, sandbox: Sandbox) -> None:
    stdout, _, status = await run(backend, sandbox, "tr a-z A-Z", stdin=b"hello\n")
    assert stdout == "HELLO\n"
    assert status.exit_code == 0


async def test_the_runner_environment_does_not_leak(
    backend: LocalBackend, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKIFF_SECRET_FOR_TEST", "leaked")
    stdout, _, _ = await run(backend, sandbox, 'echo "[$SKIFF_SECRET_FOR_TEST]"; echo $HOME')
    assert stdout.splitlines() == ["[]", str(sandbox.workspace)]


@pytest.mark.parametrize("cwd", ["..", "../..", "/../etc", "missing", "a\x00b"])
async def test_a_cwd_outside_the_workspace_is_refused(
    backend: LocalBackend, sandbox: Sandbox, cwd: str
) -> None:
    with pytest.raises(BackendError):
        await backend.exec(sandbox, "true", env={}, cwd=cwd)


async def test_a_cwd_through_a_symlink_is_refused(backend: LocalBackend, sandbox: Sandbox) -> None:
    (sandbox.workspace / "etc").symlink_to("/etc")
    with pytest.raises(BackendError, match="symlink"):
        await backend.exec(sandbox, "true", env={}, cwd="etc")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes (its parent, the shell, may not have reaped it yet).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


async def child_pid(process: LocalProcess) -> int:
    """Start reading output and return the pid the command printed on its first line."""
    async for _, chunk in process.output():
        return int(chunk.split()[0])
    raise AssertionError("no output")


async def test_kill_kills_the_command_and_its_children(
    backend: LocalBackend, sandbox: Sandbox
) -> None:
    process = await backend.exec(sandbox, "sleep 300 & echo $!; wait", env={}, cwd=None)
    sleeper = await child_pid(process)
    assert alive(sleeper)
    await process.kill()
    status = await process.wait()
    assert status.exit_code == 137
    for _ in range(100):
        if not alive(sleeper):
            break
        await asyncio.sleep(0.05)
    assert not alive(sleeper)


async def test_pause_stops_progress_and_resume_continues(
    backend: LocalBackend, sandbox: Sandbox
) -> None:
    counter = sandbox.workspace / "count"
    process = await backend.exec(
        sandbox,
        "i=0; while true; do i=$((i+1)); echo $i > count; sleep 0.02; done",
        env={},
        cwd=None,
    )
    for _ in range(500):
        if counter.exists() and counter.read_text().strip():
            break
        await asyncio.sleep(0.02)
    await backend.pause(sandbox)
    await asyncio.sleep(0.1)  # let a write in flight land
    frozen = counter.read_text()
    await asyncio.sleep(0.3)
    assert counter.read_text() == frozen
    with pytest.raises(BackendError, match="paused"):
        await backend.exec(sandbox, "true", env={}, cwd=None)
    await backend.resume(sandbox)
    for _ in range(200):
        if counter.read_text() not in ("", frozen):
            break
        await asyncio.sleep(0.02)
    assert counter.read_text() not in ("", frozen)
    await process.kill()
    await process.wait()


async def test_remove_kills_processes_and_deletes_the_workspace(
    backend: LocalBackend, sandbox: Sandbox
) -> None:
    process = await backend.exec(sandbox, "sleep 300 & echo $!; wait", env={}, cwd=None)
    sleeper = await child_pid(process)
    locked = sandbox.workspace / "locked"
    (locked / "inner").mkdir(parents=True)
    (locked / "inner" / "file").write_text("x")
    locked.chmod(0o500)
    assert await backend.is_running(sandbox)
    await backend.remove(sandbox)
    await process.wait()
    assert not sandbox.workspace.exists()
    assert not await backend.is_running(sandbox)
    assert await backend.list_managed() == []
    for _ in range(100):
        if not alive(sleeper):
            break
        await asyncio.sleep(0.05)
    assert not alive(sleeper)
    await backend.remove(sandbox)  # idempotent


async def test_list_managed_finds_this_runners_sandboxes_after_a_restart(
    backend: LocalBackend, sandbox: Sandbox, tmp_path: Path
) -> None:
    other_runner = LocalBackend("runner-b", backend.workspace_root)
    await other_runner.start("sbx_other", SPEC, None)
    restarted = LocalBackend("runner-a", backend.workspace_root)
    found = await restarted.list_managed()
    assert [(s.sandbox_id, s.session_id, s.spec, s.workspace) for s in found] == [
        ("sbx_local1", "ses_1", SPEC, sandbox.workspace)
    ]
    assert found[0].created_at == sandbox.created_at


@pytest.mark.parametrize("sandbox_id", ["../x", "", ".hidden", "a/b", "x" * 200])
async def test_an_unsafe_sandbox_id_is_refused(backend: LocalBackend, sandbox_id: str) -> None:
    with pytest.raises(BackendError):
        await backend.start(sandbox_id, SPEC, None)

"""The docker backend contains what runs inside it (real engine, real `skiff-sandbox` image).

Read-only checks share one sandbox; tests that break or freeze a sandbox get their own. Every
container these tests make carries a runner id unique to this run, and is removed after.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from backend_helpers import run
from skiff_contracts.events.orchestrator import SandboxSpec
from skiff_sandbox_runner.backends.agent_process import AgentProcess
from skiff_sandbox_runner.backends.base import BackendError, ExitStatus, Sandbox
from skiff_sandbox_runner.backends.docker import DockerBackend
from skiff_sandbox_runner.backends.docker_exec import DockerProcess

pytestmark = pytest.mark.docker

RUN = secrets.token_hex(4)


def spec_for(image: str, **changes: object) -> SandboxSpec:
    values: dict[str, object] = {
        "image": image,
        "cpu": 1.0,
        "memory_mb": 128,
        "network": "none",
        "timeout_seconds": 600,
        "idle_timeout_seconds": 300,
        "env": {"FROM_SPEC": "spec", "BOTH": "spec"},
    }
    values.update(changes)
    return SandboxSpec(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def backend(
    sandbox_image: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DockerBackend]:
    docker = DockerBackend(
        f"test-{RUN}",
        tmp_path_factory.mktemp("docker-workspaces"),
        pids_limit=64,
        egress_network=f"skiff-egress-test-{RUN}",
    )
    yield docker
    for leftover in await docker.list_managed():
        await docker.remove(leftover)
    await asyncio.to_thread(
        subprocess.run, ["docker", "network", "rm", docker.egress_network], capture_output=True
    )
    await docker.close()


@pytest.fixture(scope="module")
async def shared(backend: DockerBackend, sandbox_image: str) -> AsyncIterator[Sandbox]:
    """One sandbox for the checks that change nothing."""
    sandbox = await backend.start(f"sbx_shared_{RUN}", spec_for(sandbox_image), "ses_shared")
    yield sandbox
    await backend.remove(sandbox)


@pytest.fixture
async def own(backend: DockerBackend, sandbox_image: str) -> AsyncIterator[Sandbox]:
    """A sandbox for this test alone."""
    sandbox = await backend.start(f"sbx_{secrets.token_hex(4)}", spec_for(sandbox_image), None)
    yield sandbox
    await backend.remove(sandbox)


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait (up to 10 s) until the condition holds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the condition never held")


async def test_exec_gives_output_exit_code_env_cwd_and_stdin(
    backend: DockerBackend, shared: Sandbox
) -> None:
    (shared.workspace / "sub").mkdir(exist_ok=True)
    stdout, stderr, status = await run(
        backend,
        shared,
        'echo "$FROM_SPEC $BOTH $FROM_EXEC $HOME"; pwd; echo oops >&2; exit 3',
        env={"FROM_EXEC": "exec", "BOTH": "exec"},
        cwd="/sub",
    )
    assert stdout.splitlines() == ["spec exec exec /workspace", "/workspace/sub"]
    assert stderr == "oops\n"
    assert status == ExitStatus(exit_code=3)
    stdout, _, status = await run(backend, shared, "tr a-z A-Z", stdin=b"hello\n")
    assert (stdout, status.exit_code) == ("HELLO\n", 0)


async def test_a_cwd_outside_the_workspace_is_refused(
    backend: DockerBackend, shared: Sandbox
) -> None:
    (shared.workspace / "etc").symlink_to("/etc")
    for cwd in ["..", "/../etc", "etc", "missing"]:
        with pytest.raises(BackendError):
            await backend.exec(shared, "true", env={}, cwd=cwd)


async def test_the_user_is_not_root_and_has_no_capabilities_nor_new_privileges(
    backend: DockerBackend, shared: Sandbox
) -> None:
    stdout, _, _ = await run(
        backend, shared, "id -u; grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status"
    )
    lines = stdout.splitlines()
    assert lines[0] != "0"
    assert lines[0] == "1000"
    assert sorted(lines[1:]) == [
        "CapBnd:\t0000000000000000",
        "CapEff:\t0000000000000000",
        "CapPrm:\t0000000000000000",
        "NoNewPrivs:\t1",
    ]


async def test_the_root_filesystem_is_read_only_but_workspace_and_tmp_are_not(
    backend: DockerBackend, shared: Sandbox
) -> None:
    _, stderr, status = await run(backend, shared, "touch /etc/pwned")
    assert status.exit_code != 0
    assert "Read-only file system" in stderr
    _, _, status = await run(backend, shared, "echo hi > /tmp/x && echo hi > /workspace/made")
    assert status.exit_code == 0
    assert (shared.workspace / "made").read_text() == "hi\n"
    assert (shared.workspace / "made").stat().st_uid == 1000


async def test_there_is_no_network_but_loopback(backend: DockerBackend, shared: Sandbox) -> None:
    stdout, _, _ = await run(backend, shared, "ls /sys/class/net")
    assert stdout.split() == ["lo"]


async def test_the_docker_socket_and_host_paths_are_not_reachable(
    backend: DockerBackend, shared: Sandbox
) -> None:
    marker = f"host-only-{RUN}"
    (backend.workspace_root / marker).write_text("host")
    stdout, _, _ = await run(
        backend,
        shared,
        f"ls /var/run/docker.sock /run/docker.sock 2>&1; find / -xdev -name {marker} 2>/dev/null;"
        " grep -c docker.sock /proc/self/mountinfo;"
        " awk '$5 == \"/workspace\"' /proc/self/mountinfo",
    )
    assert stdout.count("No such file or directory") == 2
    assert marker not in stdout
    assert "\n0\n" in stdout
    assert len([line for line in stdout.splitlines() if " /workspace " in line]) == 1


async def test_a_memory_hog_is_killed_with_the_reason_and_the_sandbox_lives_on(
    backend: DockerBackend, shared: Sandbox
) -> None:
    _, _, status = await run(
        backend, shared, "python3 -c 'x = bytearray(512 * 1024 * 1024); print(len(x))'"
    )
    assert status.exit_code == 137
    assert status.error == "killed: out of memory (limit 128 MiB)"
    stdout, _, status = await run(backend, shared, "echo still here")
    assert (stdout, status) == ("still here\n", ExitStatus(exit_code=0))


async def test_an_exit_code_of_137_without_oom_has_no_error(
    backend: DockerBackend, shared: Sandbox
) -> None:
    _, _, status = await run(backend, shared, "exit 137")
    assert status == ExitStatus(exit_code=137)


async def test_kill_kills_the_command_and_its_children(
    backend: DockerBackend, shared: Sandbox
) -> None:
    process = await backend.exec(
        shared, "sleep 301 & sh -c 'sleep 302' & echo started; wait", env={}, cwd=None
    )
    async for _, chunk in process.output():
        assert chunk == b"started\n"
        break
    stdout, _, _ = await run(backend, shared, "pgrep -c -f '^sleep 30[12]$'")
    assert stdout.strip() == "2"
    await process.kill()
    status = await process.wait()
    assert status == ExitStatus(exit_code=137)
    stdout, _, _ = await run(backend, shared, "pgrep -c -f '^sleep 30[12]$'")
    assert stdout.strip() == "0"


async def test_a_fork_bomb_stops_at_the_pids_limit_and_everything_keeps_working(
    backend: DockerBackend, own: Sandbox, shared: Sandbox
) -> None:
    bomb = await backend.exec(own, "bomb() { bomb | bomb & }; bomb; sleep 600", env={}, cwd=None)
    errors = b""
    async for stream, chunk in bomb.output():
        errors += chunk if stream == "stderr" else b""
        if b"fork" in errors.lower():
            break
    assert b"fork" in errors.lower()  # forks fail: the pids limit holds
    stdout, _, _ = await run(backend, shared, "echo other sandbox fine")
    assert stdout == "other sandbox fine\n"
    host = await asyncio.to_thread(subprocess.run, ["echo", "host fine"], capture_output=True)
    assert host.stdout == b"host fine\n"
    await bomb.kill()
    await bomb.wait()
    stdout, _, status = await run(backend, own, "echo recovered; ps -e --no-headers | wc -l")
    assert stdout.splitlines()[0] == "recovered"
    assert int(stdout.splitlines()[1]) < 10
    assert status.exit_code == 0


async def test_pause_freezes_and_resume_continues(backend: DockerBackend, own: Sandbox) -> None:
    counter = own.workspace / "count"
    process = await backend.exec(
        own, "i=0; while true; do i=$((i+1)); echo $i > count; sleep 0.02; done", env={}, cwd=None
    )
    await eventually(lambda: counter.exists() and counter.read_text().strip() != "")
    await backend.pause(own)
    await backend.pause(own)  # twice is fine
    frozen = counter.read_text()
    await asyncio.sleep(0.3)
    assert counter.read_text() == frozen
    assert await backend.is_running(own)
    with pytest.raises(BackendError, match="paused"):
        await backend.exec(own, "true", env={}, cwd=None)
    await backend.resume(own)
    await backend.resume(own)
    for _ in range(200):
        if counter.read_text() not in ("", frozen):
            break
        await asyncio.sleep(0.02)
    assert counter.read_text() not in ("", frozen)
    await process.kill()
    await process.wait()


async def test_egress_attaches_the_egress_bridge(
    backend: DockerBackend, sandbox_image: str
) -> None:
    egress = spec_for(sandbox_image, network="egress")
    sandbox = await backend.start(f"sbx_egress_{RUN}", egress, None)
    try:
        stdout, _, _ = await run(backend, sandbox, "ls /sys/class/net")
        assert sorted(stdout.split()) == ["eth0", "lo"]
        inspect = await asyncio.to_thread(
            subprocess.run,
            ["docker", "network", "inspect", backend.egress_network],
            capture_output=True,
        )
        assert inspect.returncode == 0
    finally:
        await backend.remove(sandbox)


async def test_list_managed_finds_this_runners_containers_only(
    backend: DockerBackend, shared: Sandbox, sandbox_image: str, tmp_path: Path
) -> None:
    other = DockerBackend(f"other-{RUN}", tmp_path)
    theirs = await other.start(f"sbx_theirs_{RUN}", spec_for(sandbox_image), "ses_theirs")
    try:
        restarted = DockerBackend(f"test-{RUN}", backend.workspace_root)
        mine = {s.sandbox_id: s for s in await restarted.list_managed()}
        await restarted.close()
        assert shared.sandbox_id in mine
        assert theirs.sandbox_id not in mine
        adopted = mine[shared.sandbox_id]
        assert (adopted.session_id, adopted.spec, adopted.handle) == (
            "ses_shared",
            shared.spec,
            shared.handle,
        )
        assert adopted.created_at == shared.created_at
        assert [s.sandbox_id for s in await other.list_managed()] == [theirs.sandbox_id]
    finally:
        await other.remove(theirs)
        await other.close()


async def test_remove_deletes_container_and_workspace_and_is_idempotent(
    backend: DockerBackend, sandbox_image: str
) -> None:
    sandbox = await backend.start(f"sbx_gone_{RUN}", spec_for(sandbox_image), None)
    (sandbox.workspace / "file").write_text("x")
    assert await backend.is_running(sandbox)
    await backend.remove(sandbox)
    await backend.remove(sandbox)
    assert not await backend.is_running(sandbox)
    assert not sandbox.workspace.exists()
    assert sandbox.sandbox_id not in {s.sandbox_id for s in await backend.list_managed()}


async def test_a_missing_image_says_how_to_build_it(backend: DockerBackend) -> None:
    with pytest.raises(BackendError, match="make sandbox-image"):
        await backend.start(f"sbx_noimg_{RUN}", spec_for("skiff-no-such-image:latest"), None)
    assert not (backend.workspace_root / f"sbx_noimg_{RUN}").exists()


async def test_starting_an_existing_sandbox_again_fails_and_keeps_it(
    backend: DockerBackend, shared: Sandbox
) -> None:
    (shared.workspace / "keep").write_text("kept")
    with pytest.raises(BackendError, match="already exists"):
        await backend.start(shared.sandbox_id, shared.spec, None)
    assert (shared.workspace / "keep").read_text() == "kept"
    assert await backend.is_running(shared)


async def test_commands_go_through_the_agent_and_docker_exec_takes_over_without_it(
    backend: DockerBackend, own: Sandbox
) -> None:
    await eventually(lambda: (backend.agent_directory(own.sandbox_id) / "agent.sock").exists())
    through_agent = await backend.exec(own, "echo through the agent", env={}, cwd=None)
    assert isinstance(through_agent, AgentProcess)
    assert [chunk async for _, chunk in through_agent.output()] == [b"through the agent\n"]
    assert await through_agent.wait() == ExitStatus(exit_code=0)

    await run(backend, own, "pkill -f '^python3 -I'")  # code in the sandbox may stop it
    for _ in range(100):  # the signal lands a moment after pkill has answered
        probe = await backend.exec(own, "true", env={}, cwd=None)
        await probe.wait()
        if isinstance(probe, DockerProcess):
            break
        await asyncio.sleep(0.05)

    through_exec = await backend.exec(own, "echo through docker exec", env={}, cwd=None)
    assert isinstance(through_exec, DockerProcess)
    assert [chunk async for _, chunk in through_exec.output()] == [b"through docker exec\n"]
    assert await through_exec.wait() == ExitStatus(exit_code=0)


async def test_a_socket_planted_in_the_agent_directory_gets_nothing(
    backend: DockerBackend, own: Sandbox, tmp_path: Path
) -> None:
    """The directory is the sandbox user's: a symlink there to a host socket must not make
    the runner send the user's command to that socket."""
    received: list[bytes] = []

    async def host_service(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(1024))
        writer.close()

    host_socket = tmp_path / "host.sock"
    server = await asyncio.start_unix_server(host_service, path=str(host_socket))
    planted = backend.agent_directory(own.sandbox_id) / "agent.sock"
    await eventually(planted.exists)
    planted.unlink()
    planted.symlink_to(host_socket)
    try:
        process = await backend.exec(own, "echo planted", env={}, cwd=None)
        assert isinstance(process, DockerProcess)
        assert [chunk async for _, chunk in process.output()] == [b"planted\n"]
        await asyncio.sleep(0.2)
        assert received in ([], [b""])  # connected, refused, nothing sent
    finally:
        server.close()

"""What the backend tests share: running one command to its end."""

from __future__ import annotations

from skiff_sandbox_runner.backends.base import ExitStatus, Sandbox, SandboxBackend


async def run(
    backend: SandboxBackend,
    sandbox: Sandbox,
    command: str,
    *,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
    stdin: bytes | None = None,
) -> tuple[str, str, ExitStatus]:
    """stdout, stderr and the exit status of `command` (stdin written, then closed)."""
    process = await backend.exec(sandbox, command, env=env or {}, cwd=cwd)
    if stdin is not None:
        await process.write_stdin(stdin)
    await process.close_stdin()
    out = {"stdout": b"", "stderr": b""}
    async for stream, chunk in process.output():
        out[stream] += chunk
    return out["stdout"].decode(), out["stderr"].decode(), await process.wait()

"""README's walk-through works when pasted (issue 10): its marked blocks run against a stack.

Every ```sh block right after a `<!-- run by tests/contract/test_readme.py -->` line runs,
in order, in one bash (so `TOKEN` and `SID` carry over), with `localhost:8080` pointed at
the contract tests' stack. The blocks stop at the first failing command, and what a reader
is told to expect must be in what they print.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from skiff_cli.supervisor import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- run by tests/contract/test_readme.py -->"
BLOCK = re.compile(re.escape(MARKER) + r"\s*```sh\n(?P<code>.*?)```", re.DOTALL)


def runnable_blocks() -> list[str]:
    return [match["code"] for match in BLOCK.finditer(README.read_text())]


def test_the_readme_marks_its_walk_through() -> None:
    blocks = runnable_blocks()
    assert len(blocks) >= 2, "the first flow and the sandbox block are marked"
    assert all("localhost:8080" in block for block in blocks)


async def test_the_readme_walk_through_works_when_pasted(stack: Stack) -> None:
    address = urlsplit(stack.gateway_url).netloc
    script = "set -euo pipefail\n" + "\n".join(runnable_blocks()).replace("localhost:8080", address)

    result = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    output = result.stdout
    assert result.returncode == 0, f"{output}\n{result.stderr}"
    assert '"credits":100' in output  # the signup bonus
    assert '"title":' in output  # the welcome note
    assert '"status":"running"' in output  # ?wait=true answered once the session ran
    assert '"stdout":"42\\n"' in output  # the task's result
    assert '"name":"hello.txt"' in output  # the uploaded file, listed
    assert '"request_id"' not in output, output  # no error body anywhere

"""A task's full transcript when it is too large to ride in `sandbox.task.completed`.

The event then carries an excerpt of each stream and `output_object`, the name of this
transcript in the JetStream Object Store bucket `TASK_OUTPUT_BUCKET` (DESIGN.md: large blobs
live in the Object Store). The orchestrator copies it into the task's row.
"""

from __future__ import annotations

import msgspec

TASK_OUTPUT_BUCKET = "skiff-task-output"
# Objects outlive the SANDBOX stream's retention, so a late consumer still finds them.
TASK_OUTPUT_TTL_SECONDS = 8 * 24 * 3600.0


class TaskOutput(msgspec.Struct, frozen=True, kw_only=True):
    """Both streams, each already bounded by the runner's output limit (msgpack-encoded)."""

    stdout: str
    stderr: str
    truncated: bool


def encode_task_output(output: TaskOutput) -> bytes:
    return msgspec.msgpack.encode(output)


def decode_task_output(data: bytes) -> TaskOutput:
    return msgspec.msgpack.decode(data, type=TaskOutput)

"""The one error the supervisor raises when a stack cannot start: it says what and where to look."""

from __future__ import annotations

from pathlib import Path

from skiff_cli.files import tail


class StackError(RuntimeError):
    """A step of starting the stack failed."""

    def __init__(self, message: str, *, log_path: Path | None = None) -> None:
        self.log_path = log_path
        details = ""
        if log_path is not None:
            last = tail(log_path)
            details = (
                f"\n--- last lines of {log_path} ---\n{last}" if last else f" (see {log_path})"
            )
        super().__init__(message + details)


class AlreadyRunning(StackError):
    """Another `skiff up` supervises this state root."""

"""The supervisor's own console output: structlog's console renderer, one clear line per event."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_console(level: str = "info") -> None:
    """Human-readable, timestamped lines on stderr (stdout stays for tables)."""
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=False),
            structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )


def _stderr_logger(*_: object) -> structlog.PrintLogger:
    """Resolve sys.stderr on each use, so a replaced stream (tests, redirection) is honoured."""
    return structlog.PrintLogger(sys.stderr)


def fail(message: str) -> int:
    """Print an error for the operator (it may span lines, e.g. a log tail); returns exit code 1."""
    sys.stderr.write(f"skiff: {message}\n")
    sys.stderr.flush()
    return 1

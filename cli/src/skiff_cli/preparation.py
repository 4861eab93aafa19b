"""Before the services start: create the database, roles and schemas, then run every migration."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import structlog
from skiff_kit.database_setup import bootstrap_database

from skiff_cli.config import StackConfig
from skiff_cli.environment import service_environment
from skiff_cli.errors import StackError
from skiff_cli.process import describe_exit

log = structlog.get_logger("skiff")


def bootstrap(config: StackConfig) -> None:
    """Create the database, one role per schema (with its password) and the schemas; idempotent."""
    roles = {schema: config.secrets.roles[schema] for schema in config.schemas()}
    setup = bootstrap_database(config.admin_dsn, database=config.database, roles=roles)
    try:
        run_blocking(setup)
    except (OSError, TimeoutError, ValueError) as error:
        raise StackError(f"bootstrapping database {config.database!r} failed: {error}") from error
    except Exception as error:  # asyncpg's errors share no base class we could name here
        kind = type(error).__name__
        raise StackError(
            f"bootstrapping database {config.database!r} failed: {kind}: {error}"
        ) from error
    log.info("database ready", database=config.database, roles=len(roles))


def migrate(config: StackConfig, *, timeout: float = 300.0) -> None:
    """Run `<service command> migrate` for every service with a schema, side by side."""
    config.log_dir.mkdir(parents=True, exist_ok=True)
    running = []
    for spec in config.services:
        if spec.schema is None:
            continue
        log_path = config.log_dir / f"{spec.name}-migrate.log"
        with log_path.open("ab") as output:
            process = subprocess.Popen(
                [*config.command(spec), "migrate"],
                env=service_environment(config, spec, replica=0, private_port=0),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        running.append((spec.name, process, log_path))
    try:
        outcomes = [
            _outcome(name, process, log_path, timeout) for name, process, log_path in running
        ]
    except BaseException:  # interrupted: leave no migration running behind us
        for _, process, _ in running:
            process.kill()
            process.wait()
        raise
    failures = [outcome for outcome in outcomes if outcome is not None]
    if failures:
        raise StackError("\n\n".join(str(failure) for failure in failures))


def _outcome(
    name: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float
) -> StackError | None:
    """Wait for one migration; the error to report, or None when it succeeded."""
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return StackError(f"migrations of {name} hung for {timeout:.0f}s", log_path=log_path)
    if code != 0:
        message = f"migrations of {name} failed with exit code {describe_exit(code)}"
        return StackError(message, log_path=log_path)
    log.info("migrated", service=name)
    return None


def run_blocking(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run a coroutine to completion on its own loop, even when called from inside an event loop."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(coroutine)
        except BaseException as error:  # re-raised in the calling thread
            errors.append(error)

    thread = threading.Thread(target=target, name="skiff-bootstrap")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]

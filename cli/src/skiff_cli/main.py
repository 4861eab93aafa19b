"""The `skiff` command: `up`, `status` and `migrate` for a whole Skiff on this machine."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from skiff_kit.catalog import service

from skiff_cli.console import configure_console, fail
from skiff_cli.migrate import MigrateOptions, run_migrate
from skiff_cli.process import RestartPolicy
from skiff_cli.status import run_status
from skiff_cli.up import UpOptions, run_up


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; returns the exit code."""
    arguments = parser().parse_args(argv)
    configure_console(getattr(arguments, "log_level", "info"))
    root = Path(arguments.root)
    if arguments.command == "status":
        return run_status(root)
    if arguments.command == "migrate":
        return run_migrate(
            MigrateOptions(root=root, pg_port=arguments.pg_port, nats_port=arguments.nats_port)
        )
    try:
        scale = parse_scale(arguments.scale)
    except ValueError as error:
        return fail(str(error))
    options = UpOptions(
        root=root,
        pg_port=arguments.pg_port,
        nats_port=arguments.nats_port,
        scale=scale,
        log_format=arguments.log_format,
        log_level=arguments.log_level,
        restart=RestartPolicy(enabled=not arguments.no_restart),
    )
    return run_up(options)


def parser() -> argparse.ArgumentParser:
    """`skiff up | status | migrate`, each with `--root`."""
    top = argparse.ArgumentParser(prog="skiff", description="Run Skiff on this machine.")
    commands = top.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start PostgreSQL, NATS and every service; Ctrl-C stops")
    status = commands.add_parser("status", help="show what runs and whether it is healthy")
    migrate = commands.add_parser("migrate", help="create the database and run all migrations")
    for command in (up, status, migrate):
        command.add_argument("--root", default=".skiff", help="state folder (default .skiff)")
    for command in (up, migrate):
        command.add_argument("--pg-port", type=int, default=5544, help="PostgreSQL port")
        command.add_argument("--nats-port", type=int, default=4244, help="NATS port")
    up.add_argument(
        "--scale",
        action="append",
        default=[],
        metavar="NAME=N",
        help="replicas of a service (repeatable), e.g. --scale gateway=2",
    )
    up.add_argument("--log-level", default="info", help="services' and console log level")
    up.add_argument(
        "--log-format",
        choices=["console", "json"],
        default="console",
        help="format of the services' log files",
    )
    up.add_argument("--no-restart", action="store_true", help="do not restart crashed services")
    return top


def parse_scale(values: Sequence[str]) -> dict[str, int]:
    """`["gateway=2", "sandbox-runner=0"]` -> `{"gateway": 2, "sandbox_runner": 0}`."""
    scale: dict[str, int] = {}
    for value in values:
        name, sep, count = value.partition("=")
        if not sep or not count.strip().isdigit():
            raise ValueError(f"--scale {value!r}: expected NAME=N, e.g. gateway=2")
        try:
            spec = service(name.strip())
        except KeyError as error:
            raise ValueError(f"--scale {value!r}: {error.args[0]}") from None
        scale[spec.name] = int(count)
    return scale

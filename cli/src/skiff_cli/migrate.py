"""`skiff migrate`: bring the database up to date without starting the services."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from skiff_embedded import EmbeddedPostgres
from skiff_kit.catalog import SERVICES

from skiff_cli.config import Command, StackConfig, module_command
from skiff_cli.console import fail
from skiff_cli.credentials import load_or_create
from skiff_cli.errors import StackError
from skiff_cli.layout import Layout
from skiff_cli.servers import admin_dsn, check_secrets_match_data, start_postgres
from skiff_cli.state import read_state
from skiff_cli.supervisor import Stack


@dataclass(frozen=True)
class MigrateOptions:
    """The knobs of `skiff migrate`."""

    root: Path = Path(".skiff")
    pg_port: int = 5544
    nats_port: int = 4244
    command: Command = module_command


def run_migrate(options: MigrateOptions) -> int:
    """Use the running PostgreSQL (or start one), bootstrap, migrate, stop what was started."""
    layout = Layout(options.root)
    started: EmbeddedPostgres | None = None
    try:
        check_secrets_match_data(layout)
        secrets = load_or_create(
            layout.secrets_path, [spec.schema for spec in SERVICES if spec.schema is not None]
        )
        state = read_state(layout.state_path)
        running = state if state is not None and state.supervisor_running() else None
        if running is not None and running.postgres is not None:
            port = running.postgres.port
        else:
            started = start_postgres(layout, secrets, port=options.pg_port)
            port = options.pg_port
        nats_port = running.nats.port if running is not None and running.nats else options.nats_port
        config = StackConfig(
            admin_dsn=admin_dsn(secrets, port=port),
            nats_url=f"nats://127.0.0.1:{nats_port}",
            secrets=secrets,
            log_dir=layout.logs_dir,
            command=options.command,
        )
        Stack(config).prepare()
    except StackError as error:
        return fail(str(error))
    finally:
        if started is not None:
            started.stop()
    return 0

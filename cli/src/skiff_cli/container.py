"""`python -m skiff_cli.container`: the glue that runs Skiff from its image (compose, Kubernetes).

    secrets          on first start, every password and key into SKIFF_SECRETS_DIR (kept after),
                     and each service's own settings file under SKIFF_SETTINGS_ROOT
    bootstrap        the database, one role and schema per service, the JetStream streams
    migrate          bootstrap, then every service's `python -m skiff_<name> migrate`
    exec -- CMD...   run CMD with the settings file SKIFF_SETTINGS_FILE added to its environment

Secrets are the same `Secrets` as `.skiff/secrets.json` of `skiff up` (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec
from skiff_kit.settings import SettingsError

from skiff_cli.console import configure_console, fail
from skiff_cli.container_setup import (
    ContainerSettings,
    admin_dsn,
    container_settings,
    ensure_all_streams,
    role_secrets,
    stack_config,
    write_secrets,
)
from skiff_cli.credentials import Secrets
from skiff_cli.errors import StackError
from skiff_cli.preparation import bootstrap, migrate

COMMANDS = ("secrets", "bootstrap", "migrate")


def main(argv: Sequence[str]) -> int:
    """Run one subcommand; returns the exit code."""
    command, rest = (argv[0], list(argv[1:])) if argv else ("help", [])
    if command == "exec":
        return exec_command(rest[1:] if rest[:1] == ["--"] else rest)
    if command not in COMMANDS:
        sys.stdout.write(__doc__ or "")
        return 0 if command in ("help", "--help", "-h") else 2
    configure_console(os.environ.get("SKIFF_LOG_LEVEL", "info"))
    try:
        settings = container_settings()
    except SettingsError as error:
        return fail(str(error))
    try:
        if command == "secrets":
            write_secrets(settings)
            return 0
        stored = read_secrets(settings)
        secrets = stored if stored is not None else role_secrets(os.environ)
        config = stack_config(settings, admin_dsn(settings, stored), secrets)
        bootstrap(config)
        asyncio.run(asyncio.wait_for(ensure_all_streams(settings), timeout=60))
        if command == "migrate":
            migrate(config)
    except (StackError, TimeoutError) as error:
        return fail(str(error) or "NATS did not answer within 60 s")
    return 0


def read_secrets(settings: ContainerSettings) -> Secrets | None:
    """The generated secrets when this container is given them (compose); else None."""
    path = Path(settings.secrets_dir) / "secrets.json"
    if not path.exists():
        return None
    return msgspec.json.decode(path.read_bytes(), type=Secrets)


def exec_command(command: Sequence[str]) -> int:
    """Replace this process with `command`, its environment completed by the settings file.

    Variables already set win over the file, so an operator's `environment:` (an external
    database URL, say) overrides what `secrets` generated.
    """
    if not command:
        return fail("exec: nothing to run (expected: exec -- python -m skiff_<name> ...)")
    environment = dict(os.environ)
    path = environment.get("SKIFF_SETTINGS_FILE", "")
    if path:
        try:
            stored = msgspec.json.decode(Path(path).read_bytes(), type=dict[str, str])
        except (OSError, msgspec.DecodeError) as error:
            return fail(f"exec: cannot read the settings file {path}: {error}")
        environment = {**stored, **environment}
    os.execvpe(command[0], list(command), environment)  # noqa: S606 - the image's own command


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

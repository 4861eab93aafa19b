"""`python -m skiff_cli.container`: the glue that runs Skiff from its image (compose, Kubernetes).

    secrets          on first start, every password and key into SKIFF_SECRETS_DIR (kept after),
                     and each service's own settings file under SKIFF_SETTINGS_ROOT
    bootstrap        the database, one role and schema per service, the JetStream streams
    migrate          bootstrap, then every service's migrations (as `python -m skiff_<name>
                     migrate` would, in this one process)
    exec -- CMD...   run CMD with the settings file SKIFF_SETTINGS_FILE added to its environment

Secrets are the same `Secrets` as `.skiff/secrets.json` of `skiff up` (docs/deploy.md).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

COMMANDS = ("secrets", "bootstrap", "migrate")


def main(argv: Sequence[str]) -> int:
    """Run one subcommand; returns the exit code."""
    command, rest = (argv[0], list(argv[1:])) if argv else ("help", [])
    if command == "exec":
        return exec_command(rest[1:] if rest[:1] == ["--"] else rest)
    if command not in COMMANDS:
        sys.stdout.write(__doc__ or "")
        return 0 if command in ("help", "--help", "-h") else 2
    return setup_command(command)


def setup_command(command: str) -> int:
    """`secrets`, `bootstrap` or `migrate` (imported here: `exec` must start in milliseconds)."""
    import asyncio

    from skiff_kit.settings import SettingsError

    from skiff_cli.console import configure_console, fail
    from skiff_cli.container_setup import (
        admin_dsn,
        container_settings,
        ensure_all_streams,
        migrate_in_process,
        read_secrets,
        role_secrets,
        stack_config,
        write_secrets,
    )
    from skiff_cli.errors import StackError
    from skiff_cli.preparation import bootstrap

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
            migrate_in_process(config)
    except (StackError, TimeoutError) as error:
        return fail(str(error) or "NATS did not answer within 60 s")
    return 0


def exec_command(command: Sequence[str]) -> int:
    """Replace this process with `command`, its environment completed by the settings file.

    Variables already set win over the file, so an operator's `environment:` (an external
    database URL, say) overrides what `secrets` generated.
    """
    if not command:
        return _fail("exec: nothing to run (expected: exec -- python -m skiff_<name> ...)")
    environment = dict(os.environ)
    path = environment.get("SKIFF_SETTINGS_FILE", "")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                stored = json.load(handle)
        except (OSError, ValueError) as error:
            return _fail(f"exec: cannot read the settings file {path}: {error}")
        if not isinstance(stored, dict) or not all(isinstance(v, str) for v in stored.values()):
            return _fail(f"exec: {path} is not a JSON object of strings")
        environment = {**stored, **environment}
    os.execvpe(command[0], list(command), environment)  # noqa: S606 - the image's own command


def _fail(message: str) -> int:
    sys.stderr.write(f"skiff: {message}\n")
    return 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""`skiff up` end to end with real PostgreSQL and NATS (fake services): state, status, refusal."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import asyncpg
import pytest
from fakes import FAST_RESTART, SCHEMAS, alive, copy_root, fake_command
from skiff_cli.config import free_ports
from skiff_cli.main import main
from skiff_cli.migrate import MigrateOptions, run_migrate
from skiff_cli.probe import port_open
from skiff_cli.state import read_state
from skiff_cli.up import UpOptions, UpSession
from skiff_embedded import distinct_free_ports, free_port


def _migrated_rows(dsn: str, *, tcp: bool = False) -> dict[str, int]:
    """How many times each schema was migrated (by fake services) over TCP, or the socket."""

    async def count() -> dict[str, int]:
        connection = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/skiff")
        try:
            return {
                schema: await connection.fetchval(
                    f'select count(*) from "{schema}".migrated where tcp = $1', tcp
                )
                for schema in SCHEMAS
            }
        finally:
            await connection.close()

    return asyncio.run(count())


def test_up_status_refusal_migrate_stop_and_a_second_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_MIGRATE_DB", "1")
    monkeypatch.setenv("SKIFF_SMTP_HOTS", "mail.example.com")  # a misspelled setting
    root = tmp_path / ".skiff"
    pg_port, nats_port = distinct_free_ports(2)  # none bound yet: all must differ
    options = UpOptions(
        root=root,
        pg_port=pg_port,
        nats_port=nats_port,
        ports=free_ports(avoid=(pg_port, nats_port)),
        command=fake_command,
        restart=FAST_RESTART,
    )
    session = UpSession(options)
    try:
        session.start()
        assert session.postgres is not None
        admin_dsn = session.postgres.admin_dsn
        state = read_state(root / "state.json")
        assert state is not None
        assert state.supervisor_pid == os.getpid()
        assert state.postgres is not None
        assert state.postgres.pid == session.postgres.pid
        assert state.nats is not None
        assert state.nats.port == options.nats_port
        assert sorted(p.name for p in state.processes) == sorted(options.ports)
        assert all(p.pid is not None and p.log.endswith(f"{p.name}-0.log") for p in state.processes)
        assert stat.S_IMODE((root / "secrets.json").stat().st_mode) == 0o600
        secrets = (root / "secrets.json").read_bytes()

        started = capsys.readouterr()
        warning = next(
            line
            for line in (started.out + started.err).splitlines()
            if "unknown setting ignored" in line
        )
        assert "SKIFF_SMTP_HOTS" in warning
        assert "SKIFF_SMTP_HOST" in warning  # the hint
        assert main(["status", "--root", str(root)]) == 0
        rows = [line.split() for line in capsys.readouterr().out.splitlines()[3:]]
        assert [row[0] for row in rows] == ["postgres", "nats", *options.ports]
        assert all(row[3] == "yes" and row[6] == "ok" for row in rows), rows

        assert main(["up", "--root", str(root), "--pg-port", str(free_port())]) == 1
        assert "already running" in capsys.readouterr().err
        assert read_state(root / "state.json") == state  # the refused `up` left it alone

        migrate = MigrateOptions(root=root, pg_port=free_port(), command=fake_command)
        assert run_migrate(migrate) == 0  # uses the running PostgreSQL instead of a second one
        # `up` migrated through the server's Unix socket, as its services connect; `migrate`
        # through TCP.
        assert _migrated_rows(admin_dsn) == dict.fromkeys(SCHEMAS, 1)
        assert _migrated_rows(admin_dsn, tcp=True) == dict.fromkeys(SCHEMAS, 1)
    finally:
        session.stop()
    pids = [p.pid for p in state.processes if p.pid] + [state.postgres.pid, state.nats.pid]
    assert not any(alive(pid) for pid in pids)
    assert not (root / "state.json").exists()
    assert main(["status", "--root", str(root)]) == 1
    assert "not running" in capsys.readouterr().out

    again = UpSession(options)
    try:
        again.start()  # same secrets, same data: the PostgreSQL password still works
        assert (root / "secrets.json").read_bytes() == secrets
        assert _migrated_rows(admin_dsn) == dict.fromkeys(SCHEMAS, 2)
    finally:
        again.stop()
    assert not port_open(options.pg_port)


def test_migrate_starts_postgres_and_stops_it_again(
    tmp_path: Path,
    initialised_root: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_MIGRATE_FAIL", "orchestrator")
    root = copy_root(initialised_root, tmp_path / ".skiff")
    options = MigrateOptions(root=root, pg_port=free_port(), command=fake_command)
    assert run_migrate(options) == 1
    error = capsys.readouterr().err
    assert "migrations of orchestrator failed with exit code 4" in error
    assert not port_open(options.pg_port)
    monkeypatch.delenv("FAKE_MIGRATE_FAIL")
    assert run_migrate(options) == 0
    assert not port_open(options.pg_port)
    for schema in SCHEMAS:
        name = "sandbox_runner" if schema == "sandbox" else schema
        log = (root / "logs" / f"{name}-migrate.log").read_text()
        assert f"{name} migrated" in log

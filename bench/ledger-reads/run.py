"""Ledger reads benchmark: do billing's reads cost the same on a huge ledger as on a small one?

`uv run python bench/ledger_reads/run.py [--entries 1000000]` (`make bench-ledger-reads`).
Starts PostgreSQL from the wheel in a temp dir, migrates billing's schema, then grows two
organizations: a small one (5 000 entries) and a big one (`--entries`, 120 days of usage
charges, a purchase in 100 and a capture in 33), beside 2 000 others of 500 entries each, and
200 000 holds of the big one, 50 of them pending. Each read is billing's own repository or
service call (a balance's month, a page of transactions with each filter, a deep cursor, a
page of the export), the median of 5.

Baseline, in the same run: the same read of the small organization. The goal is Skiff's own
(issue 11's "usage people can see" at any size), not a figure from an issue: no read of the
big organization's ledger may cost more than twice the same read of the small one. Holds
listed by status are shown after the target and not in it: they still filter the
organization's holds (a known gap, docs/billing.md).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from grow import BIG, DAYS, NOW, SMALL, grown
from skiff_billing.holds import repository as holds
from skiff_billing.ledger import repository as ledger
from skiff_billing.ledger import service as ledger_service
from skiff_cli.config import StackConfig
from skiff_cli.credentials import Secrets
from skiff_cli.preparation import bootstrap, migrate
from skiff_embedded import EmbeddedPostgres, free_port
from skiff_kit.catalog import SERVICES
from skiff_kit.db import create_engine, create_session_factory
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

GOAL = 2.0
REPEATS = 5
Read = Callable[[AsyncSession, str], Awaitable[Any]]


def config(admin_dsn: str, root: Path) -> StackConfig:
    """Billing alone, on a database of its own."""
    billing = [spec for spec in SERVICES if spec.name == "billing"]
    return StackConfig(
        admin_dsn=admin_dsn,
        nats_url="nats://127.0.0.1:1",  # never connected: only the schema is made
        secrets=Secrets.generate(["billing"]),
        log_dir=root / "logs",
        database="ledger_reads",
        services=billing,
    )


def reads() -> dict[str, Read]:
    """Each read as billing's routes make it, of one organization."""
    week = {"start": NOW - timedelta(days=67), "end": NOW - timedelta(days=60)}
    export = {"start": NOW - timedelta(days=90), "end": NOW}

    def page(**filters: Any) -> Read:
        return lambda s, org: ledger.entries_page(s, org, before=None, limit=51, **filters)

    async def deep(session: AsyncSession, org: str) -> Any:
        [last] = await ledger.entries_page(
            session, org, before=None, limit=1, end=NOW - timedelta(days=DAYS // 2)
        )
        return await ledger.entries_page(session, org, before=(last.created_at, last.id), limit=51)

    async def export_middle(session: AsyncSession, org: str) -> Any:
        after = (NOW - timedelta(days=45), "txn_")
        return await ledger.entries_between(session, org, **export, after=after, limit=500)

    return {
        "balance: this month's spending": lambda s, org: ledger_service.used_this_month(
            s, org, NOW
        ),
        "transactions: newest": page(),
        "transactions: ?type=purchase": page(type_="purchase"),
        "transactions: ?type=refund (none)": page(type_="refund"),
        "transactions: a week 60 days back": page(**week),
        "transactions: a cursor halfway back": deep,
        "export: the first page of 90 days": lambda s, org: ledger.entries_between(
            s, org, **export, after=None, limit=500
        ),
        "export: a page 45 days in": export_middle,
    }


def hold_reads() -> dict[str, Read]:
    """Pages of holds: not in the target."""
    return {
        "holds: newest": lambda s, org: holds.page(s, org, status=None, before_id=None, limit=51),
        "holds: ?status=pending": lambda s, org: holds.page(
            s, org, status="pending", before_id=None, limit=51
        ),
    }


async def median_ms(sessions: async_sessionmaker[AsyncSession], read: Read, org: str) -> float:
    took = []
    for _ in range(REPEATS):
        async with sessions() as session:
            started = time.perf_counter()
            await read(session, org)
            took.append(time.perf_counter() - started)
    return statistics.median(took) * 1000


Figure = tuple[str, float, float]  # (read, small organization ms, big organization ms)


async def measure(url: str, named: dict[str, Read]) -> list[Figure]:
    engine = create_engine(url, schema="billing")
    sessions = create_session_factory(engine)
    try:
        figures = []
        for name, read in named.items():
            await median_ms(sessions, read, SMALL)  # warm: the statement prepared
            small = await median_ms(sessions, read, SMALL)
            big = await median_ms(sessions, read, BIG)
            figures.append((name, small, big))
        return figures
    finally:
        await engine.dispose()


def show(figures: list[Figure]) -> None:
    for name, small, big in figures:
        print(f"{name:40s} {small:6.2f} ms {big:6.2f} ms  {big / small:5.2f}x")


async def grow_tables(admin_url: str, entries: int) -> float:
    connection = await asyncpg.connect(admin_url)
    try:
        started = time.perf_counter()
        await connection.execute(grown(entries))
        return time.perf_counter() - started
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000, help="of the big organization")
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory(prefix="skiff-bench-ledger-reads-") as tmp:
        root = Path(tmp)
        postgres = EmbeddedPostgres(
            root / "postgres", port=free_port(), admin_password=secrets.token_hex(8), durable=True
        )
        postgres.start()
        try:
            stack = config(postgres.admin_dsn, root)
            bootstrap(stack)
            migrate(stack)
            admin_url = postgres.admin_dsn.rsplit("/", 1)[0] + "/" + stack.database
            seconds = asyncio.run(grow_tables(admin_url, args.entries))
            figures = asyncio.run(measure(stack.database_url("billing"), reads()))
            holds_figures = asyncio.run(measure(stack.database_url("billing"), hold_reads()))
        finally:
            postgres.stop()
    print(f"grown in {seconds:.0f} s: {args.entries} entries of the big organization")
    print(f"{'read':40s} {'small':>9s} {'big':>9s}  ratio")
    show(figures)
    print("not in the target (holds by status filter the organization's holds):")
    show(holds_figures)
    name, small, big = max(figures, key=lambda figure: figure[2] / figure[1])
    ratio = big / small
    verdict = "met" if ratio <= GOAL else "missed"
    print(
        f"target ledger_reads_flat: {ratio:.2f}x the small organization, worst read ({name})"
        f" (goal <= {GOAL:.2f}x) {verdict}"
    )


if __name__ == "__main__":
    main()

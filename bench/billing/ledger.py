"""Ledger postings per second: billing's usage charge against raw asyncpg, side by side.

Both sides post one usage debit per transaction for 64 organizations at once, on the same
server, tables and connection count (the service's pool: 10 + 10 overflow):

- ours: each posting a `sandbox.session.usage` event with an id of its own, decoded and
  applied by `EventConsumer.apply` with billing's handler (`ledger.handlers.session_usage`):
  the code the service's consumer runs for a message (the inbox claim, lock the account,
  skip minutes already charged, the entry, the balance, two daily rollups, the low/exhausted
  and auto top-up checks, `billing.usage.charged` in the outbox and its NOTIFY), all but
  NATS (the fetch, the ack) and `handle`'s span and log context;
- raw: asyncpg `UPDATE accounts ... RETURNING balance` + `INSERT INTO ledger_entries` in one
  transaction, nothing else.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from skiff_billing.app import USAGE_CONSUMER
from skiff_billing.ledger import handlers, service
from skiff_billing.policy import Policy
from skiff_contracts import Envelope, decode_envelope, new_id
from skiff_contracts.events.sandbox import SessionUsage
from skiff_kit.db import create_engine, create_session_factory
from skiff_messaging import EventConsumer

ORGANIZATIONS = 64
POOL = 20  # skiff_kit.db.create_engine: pool_size 10 + max_overflow 10
BONUS = 100_000_000
RAW_UPDATE = "update accounts set balance = balance - 1 where id = $1 returning balance"
RAW_TOUCH = "update accounts set balance = balance where id = $1"
RAW_INSERT = (
    "insert into ledger_entries (id, account_id, organization_id, type, amount, balance_after,"
    " description, reference, created_at) values ($1, $2, $3, 'usage', -1, $4, $5, $6, now())"
)


@dataclass
class LedgerBench:
    """64 organizations with accounts; each side's next minute per organization."""

    url: str  # billing's own SQLAlchemy URL (its role, its schema)
    organizations: list[tuple[str, str]] = field(default_factory=list)  # (org, account id)
    minutes: dict[str, itertools.count[int]] = field(default_factory=dict)

    async def start(self) -> None:
        self.engine = create_engine(self.url, schema="billing")
        self.sessions = create_session_factory(self.engine)
        self.pool = await asyncpg.create_pool(
            self.url.replace("postgresql+asyncpg://", "postgresql://"),
            min_size=POOL,
            max_size=POOL,
            server_settings={"search_path": "billing"},
        )
        for _ in range(ORGANIZATIONS):
            org = new_id("org")
            async with self.sessions() as session, session.begin():
                await service.open_account(session, organization_id=org, bonus=BONUS)
                account = await service.account(session, org)
            self.organizations.append((org, account.id))
            self.minutes[org] = itertools.count(1)
        self.policy = Policy()
        handler = (SessionUsage, handlers.session_usage(self.policy))
        self.consumer = EventConsumer(
            js=None,  # type: ignore[arg-type]  # `apply` does not touch the bus
            session_factory=self.sessions,
            stream="SANDBOX",
            durable=USAGE_CONSUMER,
            handlers={SessionUsage.event_type: handler},
        )

    async def stop(self) -> None:
        await self.pool.close()
        await self.engine.dispose()

    async def ours(self, per_organization: int) -> Round:
        """Postings through the service's consumer code, one event each."""
        payload_type, handler = self.consumer.handlers[SessionUsage.event_type]
        # What the bus delivers: encoded by the runner, before the clock starts.
        wires = {
            org: [self._usage(org) for _ in range(per_organization)]
            for org, _ in self.organizations
        }

        async def organization(org: str) -> None:
            for wire in wires[org]:
                envelope = decode_envelope(wire)  # from here on, what the consumer does
                payload = envelope.payload(payload_type)
                if not await self.consumer.apply(envelope, payload, handler):
                    raise RuntimeError(f"usage event of {org} taken for a duplicate")

        orgs = [org for org, _ in self.organizations]
        before = await self._charged()
        took = await _rate(organization, orgs, per_organization)
        if (charged := await self._charged() - before) != len(orgs) * per_organization:
            raise RuntimeError(f"{charged} minutes charged, not {len(orgs) * per_organization}")
        return took

    def _usage(self, org: str) -> bytes:
        """The organization's next `sandbox.session.usage` event (one more minute), encoded."""
        usage = SessionUsage(
            session_id=f"ses_bench_{org}",
            organization_id=org,
            runner_id="bench",
            minutes_started=next(self.minutes[org]),
            active_seconds=1.0,
            final=False,
            measured_at=datetime.now(UTC),
        )
        return Envelope.wrap(usage, source="skiff/bench", organization_id=org).encode()

    async def _charged(self) -> int:
        """Container-minutes charged so far (usage entries)."""
        async with self.pool.acquire() as connection:
            count = await connection.fetchval(
                "select count(*) from ledger_entries where reference like 'usage:%'"
            )
        return int(count)

    async def raw(self, per_organization: int) -> Round:
        """Postings of the bare INSERT + UPDATE."""
        accounts = dict(self.organizations)

        async def organization(org: str) -> None:
            for _ in range(per_organization):
                async with self.pool.acquire() as connection, connection.transaction():
                    balance = await connection.fetchval(RAW_UPDATE, accounts[org])
                    entry = new_id("txn")
                    await connection.execute(
                        RAW_INSERT, entry, accounts[org], org, balance, "raw usage", f"raw:{entry}"
                    )

        return await _rate(organization, list(accounts), per_organization)


async def commit_latency(pool: asyncpg.Pool, account_id: str, samples: int) -> list[float]:
    """Seconds of one durable one-row transaction, one at a time: the floor under any write."""
    took = []
    async with pool.acquire() as connection:
        for _ in range(samples):
            started = time.perf_counter()
            async with connection.transaction():
                await connection.execute(RAW_TOUCH, account_id)
            took.append(time.perf_counter() - started)
    return took


@dataclass(frozen=True)
class Round:
    """One round of one side: postings per second, and this process's CPU per posting."""

    rate: float
    cpu_ms: float


async def _rate(
    work: Callable[[str], Awaitable[None]], organizations: list[str], per_organization: int
) -> Round:
    """Run `work` for every organization at once."""
    postings = len(organizations) * per_organization
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(work(org) for org in organizations))
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Round(rate=postings / took, cpu_ms=cpu / postings * 1000)

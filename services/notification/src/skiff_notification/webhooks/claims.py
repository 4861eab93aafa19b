"""The dispatcher's claim: one statement, one round trip, limits held across every replica.

It takes due messages oldest first and leases them: a claimed message stays `pending` with
`next_attempt_at` at the end of the lease, so a dispatcher that dies mid-send leaves it due
again (at least once, the same `webhook-id`), and no other replica takes it meanwhile
(`FOR UPDATE SKIP LOCKED`).

Each endpoint's limits live on its row, so every replica claims against the same numbers:

- `leases`: the leases in flight, `{message id: [lease end, attempts when claimed]}`. One
  counts until its lease ends or its attempt is recorded (the message's `attempts` went up);
  at most the concurrency cap count at once.
- `rate_tat`: the rate limit as GCRA, its theoretical arrival time: `rate` sends per second
  with a burst of one second's worth, advanced by the sends leased.

The endpoint rows that seem to have room (as of the statement's snapshot) are locked first
(`FOR NO KEY UPDATE SKIP LOCKED`: not blocked by messages being inserted, which take `KEY
SHARE`), and their room is computed again from the locked row: a locked row reads as its latest
committed version, not as of the snapshot, so two replicas claiming for one endpoint take turns
and the second sees the first's leases and arrival time. An endpoint that seems full or out of
tokens is not locked (a claim with nothing to take writes nothing); if a send ended after the
snapshot, its outcome's NOTIFY brings the next claim. Whether a lease's attempt was recorded
is read from the snapshot: a just-recorded one may still count, never the other way round.

Endpoints whose due messages had to stay behind come back as rows without a message, with the
time they may have room again: the next token of their rate, the first of their leases to end
(a send that finishes sooner wakes the dispatchers: outcomes.py notifies), or now (held by
another replica's claim just then). A last row, without a message or an endpoint, says when
the next message not yet due falls due (a retry, or a lease running out): with the rows
before it, how long the dispatcher may sleep, without another statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skiff_notification.webhooks.signing import active_secrets


def _room(source: str) -> str:
    """Per endpoint row of `source` (id, leases, rate_tat, rate): its live leases (how many, the
    entries, the first to end) and how many more it may start now (`n`); `base` is the GCRA
    arrival time to advance from. One formula, applied to a row as seen and as locked."""
    return f"""
    SELECT e.id, e.rate, live.n AS live, live.leases, live.first_end,
           greatest(e.rate_tat, $1) AS base,
           greatest(0, least(
               $3 - live.n,
               CASE WHEN e.rate IS NULL THEN $3
                    ELSE floor(e.rate * (1 - extract(epoch FROM greatest(e.rate_tat, $1) - $1))
                               + 1e-6)::int
               END
           )) AS n
    FROM {source} e
    CROSS JOIN LATERAL (
        SELECT count(m.id)::int AS n,
               coalesce(jsonb_object_agg(l.key, l.value) FILTER (WHERE m.id IS NOT NULL),
                        '{{}}') AS leases,
               min((l.value->>0)::float8) FILTER (WHERE m.id IS NOT NULL) AS first_end
        FROM jsonb_each(e.leases) l
        LEFT JOIN webhook_messages m ON m.id = l.key AND m.attempts <= (l.value->>1)::int
        WHERE (l.value->>0)::float8 > extract(epoch FROM $1)
    ) live
    """  # noqa: S608 (a constant source name, no input)


# $1 now, $2 the lease's end, $3 the concurrency cap, $4 how many in all.
_CLAIM = f"""
WITH due AS MATERIALIZED (
    SELECT m.id, m.endpoint_id, m.next_attempt_at,
           row_number() OVER (PARTITION BY m.endpoint_id ORDER BY m.next_attempt_at, m.id) AS rank
    FROM webhook_messages m
    WHERE m.status = 'pending' AND m.next_attempt_at <= $1
),
seen AS (
    SELECT e.id, e.leases, e.rate_tat, e.rate_limit_per_second AS rate
    FROM webhook_endpoints e
    WHERE e.id IN (SELECT endpoint_id FROM due WHERE rank = 1) AND e.enabled
),
seen_room AS MATERIALIZED ({_room("seen")}),
endpoint AS MATERIALIZED (
    SELECT e.id, e.leases, e.rate_tat, e.rate_limit_per_second AS rate
    FROM webhook_endpoints e
    WHERE e.id IN (SELECT id FROM seen_room WHERE n > 0) AND e.enabled
    FOR NO KEY UPDATE SKIP LOCKED
),
room AS MATERIALIZED ({_room("endpoint")}),
picked AS (
    SELECT m.id FROM webhook_messages m
    WHERE m.id IN (
        SELECT d.id FROM due d JOIN room r ON r.id = d.endpoint_id
        WHERE d.rank <= r.n
        ORDER BY d.next_attempt_at
        LIMIT $4
    ) AND m.status = 'pending' AND m.next_attempt_at <= $1
    FOR UPDATE SKIP LOCKED
),
leased AS (
    UPDATE webhook_messages m SET next_attempt_at = $2
    FROM picked WHERE m.id = picked.id
    RETURNING m.id, m.endpoint_id, m.event_type, m.body, m.attempts, m.manual
),
taken AS (
    SELECT endpoint_id, count(*)::int AS n,
           jsonb_object_agg(id, jsonb_build_array(extract(epoch FROM $2), attempts)) AS leases
    FROM leased GROUP BY endpoint_id
),
advanced AS (
    UPDATE webhook_endpoints e
    SET leases = r.leases || t.leases,
        rate_tat = CASE WHEN r.rate IS NULL THEN NULL
                        ELSE r.base + make_interval(secs => t.n::float8 / r.rate) END
    FROM room r JOIN taken t ON t.endpoint_id = r.id
    WHERE e.id = r.id
    RETURNING e.id, e.url, e.secret, e.previous_secret, e.previous_secret_until,
              e.rate_limit_per_second
),
limits AS (
    SELECT * FROM room
    UNION ALL
    SELECT * FROM seen_room WHERE id NOT IN (SELECT id FROM room)
),
behind AS (
    SELECT r.id,
           CASE WHEN r.live + coalesce(t.n, 0) >= $3
                THEN least(to_timestamp(r.first_end), $2)
                WHEN r.rate IS NOT NULL
                THEN r.base
                     + make_interval(secs => (coalesce(t.n, 0) - r.rate + 1)::float8 / r.rate)
           END AS room_at
    FROM limits r
    LEFT JOIN taken t ON t.endpoint_id = r.id
    WHERE EXISTS (SELECT 1 FROM due d WHERE d.endpoint_id = r.id AND d.rank > coalesce(t.n, 0))
)
SELECT l.id, l.endpoint_id, l.event_type, l.body, l.attempts, l.manual,
       a.url, a.secret, a.previous_secret, a.previous_secret_until, a.rate_limit_per_second,
       NULL::timestamptz AS room_at
FROM leased l JOIN advanced a ON a.id = l.endpoint_id
UNION ALL
SELECT NULL, b.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       greatest(coalesce(b.room_at, $1), $1)
FROM behind b
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, (
    SELECT m.next_attempt_at FROM webhook_messages m
    JOIN webhook_endpoints e ON e.id = m.endpoint_id AND e.enabled
    WHERE m.status = 'pending' AND m.next_attempt_at > $1
    ORDER BY m.next_attempt_at LIMIT 1
)
"""  # noqa: S608 (constant fragments, no input)


@dataclass(frozen=True, slots=True)
class Target:
    """Where and how to send: the endpoint as of the claim."""

    id: str
    url: str
    secrets: list[str]
    rate_limit_per_second: int | None


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    endpoint_id: str
    event_type: str
    body: bytes
    attempts: int
    manual: bool


@dataclass(slots=True)
class Claim:
    """What one claim leased, and when endpoints with due messages left behind may have room.

    `room_at` is the claim's `now` for one skipped because another replica held it just then.
    """

    taken: list[tuple[Claimed, Target]] = field(default_factory=list)
    room_at: dict[str, datetime] = field(default_factory=dict)
    next_due: datetime | None = None  # the next message not due yet falls due then

    @property
    def next_moment(self) -> datetime | None:
        """When there may be something to claim again (new messages aside: NOTIFY)."""
        moments = [*self.room_at.values(), *([self.next_due] if self.next_due else [])]
        return min(moments, default=None)


async def claim(
    connection: Any,
    *,
    now: datetime,
    lease_until: datetime,
    per_endpoint: int,
    limit: int,
) -> Claim:
    """Lease what may be sent now: at most `per_endpoint` in flight per endpoint (across every
    replica), within its rate limit, `limit` in all."""
    result = Claim()
    for row in await connection.fetch(_CLAIM, now, lease_until, per_endpoint, limit):
        if row["endpoint_id"] is None:
            result.next_due = row["room_at"]
            continue
        if row["id"] is None:
            result.room_at[row["endpoint_id"]] = row["room_at"]
            continue
        result.taken.append(
            (
                Claimed(
                    id=row["id"],
                    endpoint_id=row["endpoint_id"],
                    event_type=row["event_type"],
                    body=bytes(row["body"]),
                    attempts=row["attempts"],
                    manual=row["manual"],
                ),
                Target(
                    id=row["endpoint_id"],
                    url=row["url"],
                    secrets=active_secrets(
                        row["secret"], row["previous_secret"], row["previous_secret_until"], now
                    ),
                    rate_limit_per_second=row["rate_limit_per_second"],
                ),
            )
        )
    return result

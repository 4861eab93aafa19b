"""The grown billing tables of the ledger reads benchmark, made by one SQL script.

Ids sort by time as `new_id`'s do (`txn_` + the time + a tiebreak), so every order the reads
use (by id, by time) is the order a real ledger would have.
"""

from __future__ import annotations

from datetime import UTC, datetime

BIG = "org_big"
SMALL = "org_small"
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
DAYS = 120
OTHERS = 2_000  # organizations of 500 entries each, interleaved with the big one's
SMALL_ENTRIES = 5_000  # enough for full pages of every read
HOLDS = 200_000  # of the big organization, the last 50 pending


def grown(entries: int) -> str:
    """The script: accounts, entries, holds and daily rollups, then ANALYZE."""
    now = f"timestamptz '{NOW.isoformat()}'"
    step = DAYS * 86_400 / entries  # seconds between the big organization's entries
    return f"""
SET search_path = billing;
INSERT INTO accounts (id, organization_id, balance) VALUES
    ('acc_big', '{BIG}', 1000000000), ('acc_small', '{SMALL}', 1000000);
INSERT INTO accounts (id, organization_id, balance)
    SELECT 'acc_' || g, 'org_' || lpad(g::text, 6, '0'), 1000
    FROM generate_series(1, {OTHERS}) g;
INSERT INTO ledger_entries (id, account_id, organization_id, type, amount, balance_after,
                            description, reference, created_at)
    SELECT 'txn_' || to_char(t, 'YYYYMMDDHH24MISSUS') || 'a' || lpad(g::text, 8, '0'),
           'acc_big', '{BIG}',
           CASE WHEN g % 100 = 0 THEN 'purchase' WHEN g % 33 = 0 THEN 'capture' ELSE 'usage' END,
           CASE WHEN g % 100 = 0 THEN 1000 ELSE -1 END, 1000, 'entry ' || g, 'ref:' || g, t
    FROM generate_series(1, {entries}) g,
         LATERAL (SELECT {now} - interval '{DAYS} days' + g * interval '{step} seconds') x(t);
INSERT INTO ledger_entries (id, account_id, organization_id, type, amount, balance_after,
                            description, reference, created_at)
    SELECT 'txn_' || to_char(t, 'YYYYMMDDHH24MISSUS') || 'b' || lpad(o::text, 6, '0'),
           'acc_' || o, 'org_' || lpad(o::text, 6, '0'),
           CASE WHEN g % 100 = 0 THEN 'purchase' ELSE 'usage' END, -1, 100, 'e', 'ref:' || g, t
    FROM generate_series(1, {OTHERS}) o, generate_series(1, 500) g,
         LATERAL (SELECT {now} - interval '{DAYS} days' + g * interval '5 hours'
                         + o * interval '1 second') x(t);
INSERT INTO ledger_entries (id, account_id, organization_id, type, amount, balance_after,
                            description, reference, created_at)
    SELECT 'txn_' || to_char(t, 'YYYYMMDDHH24MISSUS') || 'c', 'acc_small', '{SMALL}',
           CASE WHEN g % 100 = 0 THEN 'purchase' ELSE 'usage' END, -1, 100, 'e', 'ref:' || g, t
    FROM generate_series(1, {SMALL_ENTRIES}) g,
         LATERAL (SELECT {now} - interval '{DAYS} days'
                         + g * interval '{DAYS * 86_400 / SMALL_ENTRIES} seconds') x(t);
INSERT INTO holds (id, organization_id, amount, captured, status, reference, description,
                   expires_at, created_at, resolved_at)
    SELECT 'hld_' || to_char(t, 'YYYYMMDDHH24MISSUS'), '{BIG}', 5,
           CASE WHEN pending THEN 0 ELSE 5 END,
           CASE WHEN pending THEN 'pending' ELSE 'captured' END, 'h' || g, 'd',
           {now} + interval '1 hour', t, CASE WHEN NOT pending THEN t END
    FROM generate_series(1, {HOLDS}) g,
         LATERAL (SELECT {now} - interval '{DAYS} days' + g * interval '50 seconds',
                         g > {HOLDS} - 50) x(t, pending);
INSERT INTO holds (id, organization_id, amount, captured, status, reference, description,
                   expires_at, created_at, resolved_at)
    SELECT 'hld_' || to_char(t, 'YYYYMMDDHH24MISSUS') || 's', '{SMALL}', 5, 5, 'captured',
           'h' || g, 'd', {now} + interval '1 hour', t, t
    FROM generate_series(1, 100) g,
         LATERAL (SELECT {now} - interval '{DAYS} days' + g * interval '1 day') x(t);
INSERT INTO usage_daily (organization_id, day, metric, value)
    SELECT o, d::date, m, 100
    FROM (SELECT 'org_' || lpad(g::text, 6, '0') FROM generate_series(1, {OTHERS}) g
          UNION ALL VALUES ('{BIG}'), ('{SMALL}')) orgs(o),
         generate_series({now}::date - {DAYS}, {now}::date, interval '1 day') d,
         unnest(ARRAY['sessions', 'container_minutes', 'tasks', 'api_calls',
                      'credits_used']) m;
ANALYZE;
"""

"""Login audit entries: successes and failures, with the address, kept even when login fails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import asyncpg
from identity_helpers import PASSWORD, Identity, new_email

sys.path.insert(0, str(Path(__file__).parent))

from security_support import IP, login


async def test_a_login_is_recorded_with_the_user_and_the_address(
    identity: Identity, database: asyncpg.Connection
) -> None:
    email = new_email()
    registered = await identity.registered(email)

    assert (await login(identity, email, PASSWORD)).status_code == 200

    entry = await database.fetchrow("select * from identity.audit_log where action = 'auth.login'")
    assert entry is not None
    assert (entry["actor_type"], entry["actor_id"]) == ("user", registered["user"]["id"])
    assert entry["organization_id"] == registered["organization"]["id"]
    assert (entry["ip"], entry["request_id"]) == (IP, "req_test")


async def test_failed_logins_are_recorded_although_the_request_fails(
    identity: Identity, database: asyncpg.Connection
) -> None:
    email = new_email()
    registered = await identity.registered(email)
    unknown = new_email("nobody")

    assert (await login(identity, email, "wrong-password-1")).status_code == 401
    assert (await login(identity, unknown, PASSWORD)).status_code == 401

    rows = await database.fetch(
        "select * from identity.audit_log where action = 'auth.login_failed' order by id"
    )
    known, stranger = rows
    assert (known["actor_id"], known["target_id"]) == (registered["user"]["id"],) * 2
    assert known["organization_id"] == registered["organization"]["id"]
    assert json.loads(known["details"]) == {"email": email, "reason": "invalid_credentials"}
    assert (stranger["actor_id"], stranger["organization_id"], stranger["ip"]) == (None, None, IP)
    assert unknown in stranger["details"]

"""Organization tests share `org_helpers` (next to this file) and a populated organization."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from identity_helpers import Identity

sys.path.insert(0, str(Path(__file__).parent))

from org_helpers import Acme, Orgs


@pytest.fixture
def orgs(identity: Identity) -> Orgs:
    """Acting in organizations as chosen people."""
    return Orgs(identity)


@pytest.fixture
async def acme(orgs: Orgs) -> Acme:
    """Organization "Acme": Ada owns it; Bob is admin, Cy member, Di viewer (added by Ada)."""
    ada = await orgs.person("ada")
    org = await orgs.create_org(ada, "Acme")
    people = {"ada": ada}
    for name, role in (("bob", "admin"), ("cy", "member"), ("di", "viewer")):
        people[name] = await orgs.person(name)
        await orgs.add(org, by=ada, person=people[name], role=role)
    return Acme(id=org, **people)

"""schemathesis against the merged OpenAPI document: the document tells the truth.

Every answer is checked: no 5xx, a status the operation documents, the content type it
documents, and a body that matches the documented schema (issue 10: generated clients parse
what the document promises).

Every operation gets generated requests (valid and invalid: schemathesis' positive and negative
modes) through the real gateway, twice for a path with ids: once with generated ids, once with
real resources of the caller's organization, so the fuzz reaches past the 404. The document is
the one the matrix checks against the live gateway (tests/matrix/document.py), so each
operation is its own test id. Calls go with an API key; a 403 is retried as the key's owner
(routes that refuse keys or need an admin); logout and deleting the organization get
disposable credentials, since they would end the shared ones. No operation is excluded; the
session event stream keeps its generated ids in the real-resource pass
(fuzz_callers.GENERATED_IDS_ONLY says why).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from skiff_cli.supervisor import Stack

from tests.matrix.document import collected_document
from tests.matrix.fuzz_callers import (
    GENERATED_IDS_ONLY,
    OWN_CREDENTIALS,
    FuzzCallers,
    fuzz_callers,
    fuzz_organization,
)
from tests.matrix.operations import operations

# The operation type is schemathesis' own business; the test only calls and validates.
Case = schemathesis.Case[Any]
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DOCUMENT = collected_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
# The credentials are ours (below), not values generated for the security schemes.
SCHEMA.config.generation.update(with_security_parameters=False)
WITH_IDS = SCHEMA.include(path_regex=r"\{")
# The local backend runs task commands on this host: a real session only ever runs this one.
HARMLESS_COMMAND = "true"
EXAMPLES = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
async def callers(stack: Stack, nats_server_url: str) -> AsyncIterator[FuzzCallers]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as gateway:
        org = await fuzz_organization(gateway, nats_server_url)
        fuzzed = [op for op in operations(DOCUMENT) if op.id not in GENERATED_IDS_ONLY]
        yield await fuzz_callers(org, fuzzed)
        await org.clean_up(org.final_cleanups)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _call(case: Case, callers: FuzzCallers) -> None:
    """The case with our credentials (retried as the owner on a 403), every answer checked."""
    name = f"{case.method.upper()} {case.path}"
    headers = callers.disposable() if name in OWN_CREDENTIALS else callers.api_key
    response = case.call(base_url=callers.base_url, headers=headers, timeout=30)
    case.validate_response(response, checks=CHECKS)
    if response.status_code == 403 and name not in OWN_CREDENTIALS:
        response = case.call(base_url=callers.base_url, headers=callers.owner, timeout=30)
        case.validate_response(response, checks=CHECKS)


@SCHEMA.parametrize()
@EXAMPLES
def test_no_operation_answers_a_server_error(case: Case, callers: FuzzCallers) -> None:
    _call(case, callers)


@WITH_IDS.parametrize()
@EXAMPLES
def test_no_operation_on_real_resources_answers_a_server_error(
    case: Case, callers: FuzzCallers
) -> None:
    real = callers.real_ids.get(f"{case.method.upper()} {case.path}")
    if real is not None:  # None only for GENERATED_IDS_ONLY: their generated ids stand
        case.path_parameters = {**(case.path_parameters or {}), **real}
    if case.path == "/api/v1/sessions/{session_id}/tasks" and isinstance(case.body, dict):
        case.body["command"] = HARMLESS_COMMAND
    _call(case, callers)

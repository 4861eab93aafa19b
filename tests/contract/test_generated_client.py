"""A client generated from the live `/api/v1/openapi.json` drives the first flow (issue 10).

openapi-python-client generates a package at test time from what the gateway serves; any
generator warning fails the test (a schema it cannot model is a schema a user's client
cannot use). The generated client then registers, logs in, creates an API key and uses it at
once, lists keys, starts a session (`?wait=true`), runs a task (`?wait=true`) and reads it
back: every answer must come back parsed into a generated model, and an undocumented status
raises (`raise_on_unexpected_status`).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from skiff_cli.supervisor import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
PACKAGE = "skiff_generated_client"


@pytest.fixture(scope="module")
def generated(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package openapi-python-client makes of the live document, importable."""
    root = tmp_path_factory.mktemp("generated")
    document = root / "openapi.json"
    document.write_bytes(httpx.get(f"{stack.gateway_url}/api/v1/openapi.json").content)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(root / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "unable" not in output.lower(), output
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _api(package: ModuleType, module: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{module}")


def _model(package: ModuleType, name: str) -> Any:
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


def _parsed(response: Any, status: int, model: str) -> Any:
    """The answer's parsed body, which must be the generated model `model`."""
    assert response.status_code == status, response.content[:300]
    assert type(response.parsed).__name__ == model, (type(response.parsed), response.content[:300])
    return response.parsed


async def test_a_generated_client_runs_the_first_flow(stack: Stack, generated: ModuleType) -> None:
    client_module = importlib.import_module(f"{generated.__name__}.client")
    anonymous = client_module.Client(base_url=stack.gateway_url, raise_on_unexpected_status=True)
    email = f"client-{uuid.uuid4().hex[:12]}@example.com"
    register = _api(generated, "identity.api_v1_auth_register_register")
    body = _model(generated, "RegisterRequest")(
        email=email, password="correct-horse-42", name="Gen"
    )
    _parsed(await register.asyncio_detailed(client=anonymous, body=body), 201, "RegisterResponse")
    login = _api(generated, "identity.api_v1_auth_login_login")
    credentials = _model(generated, "LoginRequest")(email=email, password="correct-horse-42")
    signed_in = _parsed(
        await login.asyncio_detailed(client=anonymous, body=credentials), 200, "LoginResponse"
    )
    user = client_module.AuthenticatedClient(
        base_url=stack.gateway_url,
        token=signed_in.session.access_token,
        raise_on_unexpected_status=True,
    )

    create_key = _api(generated, "identity.api_v1_api_keys_create_key")
    made = _parsed(
        await create_key.asyncio_detailed(
            client=user, body=_model(generated, "CreateApiKey")(name="generated")
        ),
        201,
        "ApiKeyWithSecret",
    )
    key = client_module.AuthenticatedClient(
        base_url=stack.gateway_url, token=made.key, raise_on_unexpected_status=True
    )
    me = _api(generated, "identity.api_v1_auth_me_me")
    assert _parsed(await me.asyncio_detailed(client=key), 200, "MeResponse").via == "api_key"
    listed = _api(generated, "identity.api_v1_api_keys_list_keys")
    page = _parsed(await listed.asyncio_detailed(client=key), 200, "ApiKeyOutPage")
    assert [k.id for k in page.data] == [made.api_key.id]

    create_session = _api(generated, "orchestrator.api_v1_sessions_create")
    session = _parsed(
        await create_session.asyncio_detailed(
            client=key, body=_model(generated, "CreateSession")(), wait=True
        ),
        201,
        "SessionOut",
    )
    assert session.status == "running"
    run = _api(generated, "orchestrator.api_v1_sessions_session_id_tasks_run")
    result = _parsed(
        await run.asyncio_detailed(
            session.id,
            client=key,
            body=_model(generated, "CreateTask")(command="echo generated"),
            wait=True,
        ),
        200,
        "TaskResult",
    )
    assert (result.status, result.stdout) == ("succeeded", "generated\n")
    show = _api(generated, "orchestrator.api_v1_tasks_task_id_show")
    task = _parsed(await show.asyncio_detailed(result.id, client=key), 200, "TaskOut")
    assert task.id == result.id

"""File routes of a held session: list, tree, upload, download, delete, archive; who may."""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from runner_support import start
from skiff_contracts import new_id
from skiff_contracts.events.orchestrator import SessionRequested
from skiff_embedded import free_port
from skiff_kit.internal_token import Principal
from skiff_sandbox_runner.app import create
from skiff_testing.services import GatewaySigner

Client = AsyncTestClient[Any]


@pytest.fixture
async def session(runner: Client, js: JetStreamContext) -> SessionRequested:
    return await start(js)


def files(session: SessionRequested, suffix: str = "files") -> str:
    return f"/api/v1/sessions/{session.session_id}/{suffix}"


def as_user(
    signer: GatewaySigner, session: SessionRequested, role: str = "member"
) -> dict[str, str]:
    return signer.headers(signer.user(session.organization_id, new_id("usr"), role=role))


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert body["error"]


async def test_upload_list_download_and_delete(
    runner: Client, session: SessionRequested, gateway_signer: GatewaySigner
) -> None:
    headers = as_user(gateway_signer, session)
    put = await runner.put(
        files(session, "files/content"),
        params={"path": "src/app/main.py"},
        content=b"print('hi')\n",
        headers=headers,
    )
    assert put.status_code == 200, put.text
    assert put.json()["path"] == "/src/app/main.py"
    assert put.json()["size"] == 12

    listing = await runner.get(files(session), params={"path": "/src"}, headers=headers)
    assert listing.status_code == 200
    assert [(e["name"], e["type"]) for e in listing.json()["data"]] == [("app", "dir")]

    tree = await runner.get(
        files(session), params={"path": "/", "recursive": "true"}, headers=headers
    )
    assert [e["path"] for e in tree.json()["data"]] == [
        "/src",
        "/src/app",
        "/src/app/main.py",
    ]
    assert tree.json()["truncated"] is False

    download = await runner.get(
        files(session, "files/content"), params={"path": "src/app/main.py"}, headers=headers
    )
    assert download.status_code == 200
    assert download.content == b"print('hi')\n"
    assert "main.py" in download.headers["content-disposition"]

    deleted = await runner.delete(files(session), params={"path": "src"}, headers=headers)
    assert deleted.status_code == 204
    empty = await runner.get(files(session), headers=headers)
    assert empty.json()["data"] == []
    gone = await runner.get(
        files(session, "files/content"), params={"path": "src/app/main.py"}, headers=headers
    )
    assert_error(gone, 404, "path_not_found")


async def test_a_multipart_upload_writes_every_file_into_the_directory(
    runner: Client, session: SessionRequested, gateway_signer: GatewaySigner
) -> None:
    headers = as_user(gateway_signer, session)
    big = os.urandom(300_000)
    response = await runner.post(
        files(session),
        params={"path": "/uploads"},
        files=[
            ("file", ("a.txt", b"alpha", "text/plain")),
            ("file", ("nested/b.bin", big, "application/octet-stream")),
        ],
        data={"note": "ignored"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert [e["path"] for e in response.json()["data"]] == [
        "/uploads/a.txt",
        "/uploads/nested/b.bin",
    ]
    back = await runner.get(
        files(session, "files/content"), params={"path": "uploads/nested/b.bin"}, headers=headers
    )
    assert back.content == big


async def test_the_archive_is_a_tar_gz_of_the_directory(
    runner: Client, session: SessionRequested, gateway_signer: GatewaySigner
) -> None:
    headers = as_user(gateway_signer, session)
    for path, body in (("proj/a.txt", b"a"), ("proj/sub/b.txt", b"bb")):
        put = await runner.put(
            files(session, "files/content"), params={"path": path}, content=body, headers=headers
        )
        assert put.status_code == 200
    archive = await runner.get(files(session, "archive"), params={"path": "proj"}, headers=headers)
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/octet-stream"
    assert archive.headers["content-disposition"].endswith('.tar.gz"')
    with tarfile.open(fileobj=io.BytesIO(archive.content), mode="r:gz") as tar:
        names = sorted(tar.getnames())
        member = tar.extractfile("sub/b.txt")
        assert member is not None
        assert member.read() == b"bb"
    assert names == ["a.txt", "sub", "sub/b.txt"]


@pytest.mark.parametrize("path", ["../outside", "/../../etc/passwd", "a/../../b"])
async def test_paths_escaping_the_workspace_are_refused(
    runner: Client, session: SessionRequested, gateway_signer: GatewaySigner, path: str
) -> None:
    headers = as_user(gateway_signer, session)
    read = await runner.get(files(session, "files/content"), params={"path": path}, headers=headers)
    assert_error(read, 400, "path_refused")
    write = await runner.put(
        files(session, "files/content"), params={"path": path}, content=b"x", headers=headers
    )
    assert_error(write, 400, "path_refused")


async def test_a_symlink_out_of_the_workspace_is_not_followed(
    runner: Client, session: SessionRequested, gateway_signer: GatewaySigner
) -> None:
    held = runner.app.state.sandbox_runtime.holdings.get(session.session_id)
    (held.sandbox.workspace / "escape").symlink_to("/etc")
    headers = as_user(gateway_signer, session)
    read = await runner.get(
        files(session, "files/content"), params={"path": "escape/hostname"}, headers=headers
    )
    assert_error(read, 400, "path_refused")


async def test_an_upload_over_the_limit_is_413(
    make_settings: Any, js: JetStreamContext, gateway_signer: GatewaySigner
) -> None:
    async with AsyncTestClient(create(make_settings(file_upload_limit_bytes=1000))) as client:
        session = await start(js)
        headers = as_user(gateway_signer, session)
        too_big = await client.put(
            files(session, "files/content"),
            params={"path": "big"},
            content=b"x" * 1001,
            headers=headers,
        )
        assert_error(too_big, 413, "payload_too_large")

        listing = await client.get(files(session), headers=headers)
        assert listing.json()["data"] == []  # nothing half-written is left behind

        multipart = await client.post(
            files(session),
            files=[("file", ("big.bin", b"z" * 2000, "application/octet-stream"))],
            headers=headers,
        )
        assert_error(multipart, 413, "payload_too_large")


async def test_another_organization_gets_404(
    runner: Client, session: SessionRequested, gateway_signer: GatewaySigner
) -> None:
    stranger = gateway_signer.headers(gateway_signer.user(new_id("org"), new_id("usr")))
    listing = await runner.get(files(session), headers=stranger)
    assert_error(listing, 404, "session_not_found")
    unknown = await runner.get(
        f"/api/v1/sessions/{new_id('ses')}/files", headers=as_user(gateway_signer, session)
    )
    assert_error(unknown, 404, "session_not_found")


async def test_a_viewer_may_read_but_not_write(
    runner: Client, session: SessionRequested, gateway_signer: GatewaySigner
) -> None:
    viewer = as_user(gateway_signer, session, role="viewer")
    assert (await runner.get(files(session), headers=viewer)).status_code == 200
    put = await runner.put(
        files(session, "files/content"), params={"path": "a"}, content=b"x", headers=viewer
    )
    assert_error(put, 403, "role_required")
    delete = await runner.delete(files(session), params={"path": "a"}, headers=viewer)
    assert_error(delete, 403, "role_required")
    read_only_key = Principal(
        organization_id=session.organization_id,
        api_key_id=new_id("key"),
        scopes=("sessions:read",),
        via="api_key",
    )
    put = await runner.put(
        files(session, "files/content"),
        params={"path": "a"},
        content=b"x",
        headers=gateway_signer.headers(read_only_key),
    )
    assert_error(put, 403, "scope_required")


async def test_without_an_internal_token_it_is_401(
    runner: Client, session: SessionRequested
) -> None:
    response = await runner.get(files(session))
    assert response.status_code == 401


async def test_a_streamed_upload_is_counted_as_it_arrives(
    make_settings: Any, js: JetStreamContext, gateway_signer: GatewaySigner
) -> None:
    """Over a real server: a chunked body (no content-length) is cut off at the limit."""
    port = free_port()
    app = create(make_settings(file_upload_limit_bytes=1000))
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_config=None, lifespan="on"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        session = await start(js)
        headers = as_user(gateway_signer, session)

        async def chunks(count: int) -> AsyncIterator[bytes]:
            for _ in range(count):
                yield b"y" * 300

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            url = files(session, "files/content")
            small = await client.put(url, params={"path": "ok"}, content=chunks(3), headers=headers)
            assert small.status_code == 200, small.text
            assert small.json()["size"] == 900
            large = await client.put(
                url, params={"path": "big"}, content=chunks(5), headers=headers
            )
            assert_error(large, 413, "payload_too_large")
            listing = await client.get(files(session), headers=headers)
            assert [e["name"] for e in listing.json()["data"]] == ["ok"]
    finally:
        server.should_exit = True
        await serving

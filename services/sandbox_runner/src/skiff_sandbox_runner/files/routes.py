"""File routes of a session (API.md, Sessions and tasks), streamed both ways.

The gateway forwards them here from `sandbox-placement`. A session this runner does not hold
live for the caller's organization is a 404; viewers and keys without `sessions:write` may
only read. Every path is confined to the workspace by `workspace.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import PathParameter, QueryParameter
from litestar.response import Stream
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from skiff_kit.internal_token import CurrentPrincipal
from skiff_kit.openapi_errors import errors

from skiff_sandbox_runner import workspace
from skiff_sandbox_runner.errors import PayloadTooLarge
from skiff_sandbox_runner.files.access import Workspace, may_write, session_workspace, translated
from skiff_sandbox_runner.files.multipart_stream import MultipartStream, boundary_of
from skiff_sandbox_runner.files.schemas import FileListing, Uploaded
from skiff_sandbox_runner.runtime import Runtime

SandboxRuntime = NamedDependency[Runtime]

SessionId = Annotated[str, PathParameter(max_length=40)]
PathQuery = Annotated[str, QueryParameter(max_length=workspace.MAX_PATH_BYTES)]
RequiredPath = Annotated[str, QueryParameter(min_length=1, max_length=workspace.MAX_PATH_BYTES)]
Recursive = Annotated[bool, QueryParameter()]


async def _limited(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The request body, refused with 413 once it passes `limit` bytes."""
    seen = 0
    async for chunk in chunks:
        seen += len(chunk)
        if seen > limit:
            raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes")
        if chunk:
            yield chunk


def _attachment(name: str) -> str:
    safe = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in name) or "file"
    return f'attachment; filename="{safe}"'


FILE_BYTES = {
    200: ResponseSpec(
        bytes,
        description="The file's bytes",
        media_type="application/octet-stream",
        generate_examples=False,
    )
}
# Served as plain bytes (a `<name>.tar.gz` attachment): generated clients read
# application/octet-stream as bytes, and would drop an application/gzip answer.
ARCHIVE = {
    200: ResponseSpec(
        bytes,
        description="The directory as a .tar.gz (`Content-Disposition` names it)",
        media_type="application/octet-stream",
        generate_examples=False,
    )
}


class FilesController(Controller):
    path = "/api/v1/sessions/{session_id:str}"
    tags = ["files"]

    @get("/files")
    async def list_files(
        self,
        session_id: SessionId,
        principal: CurrentPrincipal,
        runtime: SandboxRuntime,
        path: PathQuery = "/",
        recursive: Recursive = False,
    ) -> FileListing:
        """List a directory of the workspace (name, type, size, mtime); recursive for a tree."""
        space = session_workspace(runtime, session_id, principal)
        with translated():
            shown = workspace.display_path(workspace.parse_path(path))
            if recursive:
                tree = await workspace.tree(
                    space.root, path, max_entries=runtime.settings.tree_entry_limit
                )
                return FileListing(path=shown, data=tree.entries, truncated=tree.truncated)
            entries = await workspace.list_dir(space.root, path)
        return FileListing(path=shown, data=entries, truncated=False)

    @get("/files/content", responses=FILE_BYTES)
    async def download(
        self,
        session_id: SessionId,
        principal: CurrentPrincipal,
        runtime: SandboxRuntime,
        path: RequiredPath,
    ) -> Stream:
        """Download one file of the workspace."""
        space = session_workspace(runtime, session_id, principal)
        with translated():
            reader = await workspace.open_file(space.root, path)
        return Stream(
            reader,
            media_type="application/octet-stream",
            headers={
                "content-length": str(reader.size),
                "content-disposition": _attachment(reader.name),
            },
        )

    @put(
        "/files/content",
        status_code=HTTP_200_OK,
        request_max_body_size=None,
        responses=errors(413),
    )
    async def upload(
        self,
        session_id: SessionId,
        principal: CurrentPrincipal,
        runtime: SandboxRuntime,
        request: Request[Any, Any, Any],
        path: RequiredPath,
    ) -> workspace.Entry:
        """Upload one file (the raw body), replacing what was there."""
        space = session_workspace(runtime, session_id, principal)
        may_write(principal)
        limit = runtime.settings.file_upload_limit_bytes
        if (request.content_length or 0) > limit:
            raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes")
        with translated():
            return await _write(space, path, _limited(request.stream(), limit), limit)

    @post(
        "/files",
        status_code=HTTP_201_CREATED,
        request_max_body_size=None,
        responses=errors(413),
    )
    async def upload_many(
        self,
        session_id: SessionId,
        principal: CurrentPrincipal,
        runtime: SandboxRuntime,
        request: Request[Any, Any, Any],
        path: PathQuery = "/",
    ) -> Uploaded:
        """Upload several files (multipart/form-data) into the directory `path`."""
        space = session_workspace(runtime, session_id, principal)
        may_write(principal)
        limit = runtime.settings.file_upload_limit_bytes
        if (request.content_length or 0) > limit:
            raise PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes")
        parts = MultipartStream(
            _limited(request.stream(), limit), boundary_of(request.headers.get("content-type", ""))
        )
        written: list[workspace.Entry] = []
        with translated():
            directory = workspace.parse_path(path)
            async for part in parts.parts():
                if not part.filename:
                    async for _ in parts.body():
                        pass  # a plain form field: nothing to store
                    continue
                target = "/".join((*directory, *workspace.parse_path(part.filename)))
                written.append(await _write(space, target, parts.body(), limit))
        return Uploaded(data=written)

    @delete("/files")
    async def remove(
        self,
        session_id: SessionId,
        principal: CurrentPrincipal,
        runtime: SandboxRuntime,
        path: RequiredPath,
    ) -> None:
        """Delete a file or a directory tree of the workspace."""
        space = session_workspace(runtime, session_id, principal)
        may_write(principal)
        with translated():
            await workspace.delete(space.root, path)

    @get("/archive", responses=ARCHIVE)
    async def archive(
        self,
        session_id: SessionId,
        principal: CurrentPrincipal,
        runtime: SandboxRuntime,
        path: PathQuery = "/",
    ) -> Stream:
        """Download a directory of the workspace as a .tar.gz."""
        space = session_workspace(runtime, session_id, principal)
        with translated():
            parts = workspace.parse_path(path)
            chunks = await workspace.archive(space.root, path)
        name = parts[-1] if parts else "workspace"
        return Stream(
            chunks,
            media_type="application/octet-stream",
            headers={"content-disposition": _attachment(f"{name}.tar.gz")},
        )


async def _write(
    space: Workspace, path: str, chunks: AsyncIterator[bytes], limit: int
) -> workspace.Entry:
    return await workspace.write_file(space.root, path, chunks, max_bytes=limit, owner=space.owner)

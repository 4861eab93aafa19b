"""A sandbox's workspace on the host, with every user path confined to it.

A sandbox user controls what is inside the workspace, symlinks included, and may change it
while we work. So a path is never resolved as a string: each component is opened relative to
its parent's file descriptor with `O_NOFOLLOW`, starting from the workspace root, and a
symlink anywhere on the way is refused rather than followed. `..`, NUL bytes and over-long
paths are refused before anything is opened. Blocking filesystem work runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import stat
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec

from skiff_sandbox_runner.tar_stream import DIR_FLAGS, READ_FLAGS, scan, tar_gz_chunks

MAX_PATH_BYTES = 4096
MAX_NAME_BYTES = 255
CHUNK_BYTES = 64 * 1024

EntryType = Literal["file", "dir", "symlink", "other"]
T = TypeVar("T")


class WorkspaceError(Exception):
    """A file operation on a workspace failed; `reason` is fit to show a user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PathRefused(WorkspaceError):
    """The path escapes the workspace, goes through a symlink, or has the wrong type (400)."""


class PathNotFound(WorkspaceError):
    """Nothing exists at the path (404)."""


class TooLarge(WorkspaceError):
    """An upload is bigger than allowed (413)."""


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """One directory entry; `path` is "/"-rooted at the workspace; symlinks are not followed."""

    path: str
    name: str
    type: EntryType
    size: int
    mtime: datetime


class Tree(msgspec.Struct, frozen=True, kw_only=True):
    """A recursive listing, cut at a maximum number of entries."""

    entries: list[Entry]
    truncated: bool


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    """Run blocking filesystem work in a thread; an unexpected OS error is refused, not a 500."""
    try:
        return await asyncio.to_thread(function, *args)
    except OSError as error:
        raise PathRefused(error.strerror or str(error)) from None


def parse_path(path: str) -> tuple[str, ...]:
    """The components of a user path ("/" or "" is the workspace root); refuses escapes."""
    if "\x00" in path:
        raise PathRefused("the path contains a NUL byte")
    if len(path.encode()) > MAX_PATH_BYTES:
        raise PathRefused(f"the path is longer than {MAX_PATH_BYTES} bytes")
    parts = tuple(part for part in path.split("/") if part not in ("", "."))
    for part in parts:
        if part == "..":
            raise PathRefused("the path may not contain '..'")
        if len(part.encode()) > MAX_NAME_BYTES:
            raise PathRefused(f"a path component is longer than {MAX_NAME_BYTES} bytes")
    return parts


def display_path(parts: tuple[str, ...]) -> str:
    """The "/"-rooted form of a parsed path."""
    return "/" + "/".join(parts)


def _open_root(root: Path) -> int:
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise PathNotFound("the workspace no longer exists") from None


def _open_child_dir(parent_fd: int, name: str, shown: str) -> int:
    try:
        return os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    except FileNotFoundError:
        raise PathNotFound(f"{shown} does not exist") from None
    except (NotADirectoryError, OSError) as error:
        if _is_symlink(parent_fd, name):
            raise PathRefused(f"{shown} is a symlink; symlinks are not followed") from None
        if isinstance(error, NotADirectoryError):
            raise PathRefused(f"{shown} is not a directory") from None
        raise


def _is_symlink(parent_fd: int, name: str) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


@contextlib.contextmanager
def _opened_dir(
    root: Path,
    parts: tuple[str, ...],
    *,
    create: bool = False,
    owner: tuple[int, int] | None = None,
) -> Iterator[int]:
    """A file descriptor of the directory at `parts`, walked without following symlinks."""
    fd = _open_root(root)
    try:
        for depth, name in enumerate(parts):
            if create:
                _make_dir(fd, name, owner)
            child = _open_child_dir(fd, name, display_path(parts[: depth + 1]))
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _make_dir(parent_fd: int, name: str, owner: tuple[int, int] | None) -> None:
    try:
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    except FileExistsError:
        return
    if owner is not None:
        os.chown(name, *owner, dir_fd=parent_fd, follow_symlinks=False)


def _entry(parent_fd: int, name: str, path: str) -> Entry:
    info = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    return Entry(
        path=path,
        name=name,
        type=_entry_type(info.st_mode),
        size=info.st_size,
        mtime=datetime.fromtimestamp(info.st_mtime, UTC),
    )


def _entry_if_there(parent_fd: int, name: str, path: str) -> Entry | None:
    """The entry, or None if it vanished since the directory was read (the user is live)."""
    try:
        return _entry(parent_fd, name, path)
    except FileNotFoundError:
        return None


def _entry_type(mode: int) -> EntryType:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


def ensure_directory(root: Path, path: str) -> str:
    """Check that `path` is a directory inside the workspace; returns its "/"-rooted form."""
    parts = parse_path(path)
    with _opened_dir(root, parts):
        return display_path(parts)


def _list_dir(root: Path, path: str) -> list[Entry]:
    parts = parse_path(path)
    with _opened_dir(root, parts) as fd:
        found = (_entry_if_there(fd, name, display_path((*parts, name))) for name in scan(fd))
        return [entry for entry in found if entry is not None]


async def list_dir(root: Path, path: str) -> list[Entry]:
    """The entries of one directory, sorted by name."""
    return await _in_thread(_list_dir, root, path)


def _tree(root: Path, path: str, max_entries: int) -> Tree:
    parts = parse_path(path)
    entries: list[Entry] = []
    with _opened_dir(root, parts) as top:
        pending: list[tuple[int, tuple[str, ...]]] = [(os.dup(top), parts)]
        try:
            while pending:
                fd, where = pending.pop(0)
                try:
                    for name in scan(fd):
                        if len(entries) >= max_entries:
                            return Tree(entries=entries, truncated=True)
                        entry = _entry_if_there(fd, name, display_path((*where, name)))
                        if entry is None:
                            continue
                        entries.append(entry)
                        if entry.type == "dir":
                            with contextlib.suppress(OSError):
                                pending.append(
                                    (os.open(name, DIR_FLAGS, dir_fd=fd), (*where, name))
                                )
                finally:
                    os.close(fd)
        finally:
            for fd, _ in pending:
                os.close(fd)
    return Tree(entries=entries, truncated=False)


async def tree(root: Path, path: str, *, max_entries: int) -> Tree:
    """Every entry under a directory, breadth first, at most `max_entries` of them."""
    return await _in_thread(_tree, root, path, max_entries)


class FileReader:
    """An opened regular file; iterate it for its chunks (the file is closed at the end)."""

    def __init__(self, fd: int, size: int, name: str) -> None:
        self._fd = fd
        self.size = size
        self.name = name

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(os.read, self._fd, CHUNK_BYTES):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """Close the file (idempotent); call it if you do not iterate to the end."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _open_file(root: Path, path: str) -> FileReader:
    parts = parse_path(path)
    if not parts:
        raise PathRefused("/ is a directory")
    shown = display_path(parts)
    with _opened_dir(root, parts[:-1]) as parent:
        try:
            fd = os.open(parts[-1], READ_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            raise PathNotFound(f"{shown} does not exist") from None
        except OSError:
            if _is_symlink(parent, parts[-1]):
                raise PathRefused(f"{shown} is a symlink; symlinks are not followed") from None
            raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise PathRefused(f"{shown} is {kind}")
    os.set_blocking(fd, True)
    return FileReader(fd, info.st_size, parts[-1])


async def open_file(root: Path, path: str) -> FileReader:
    """Open a regular file for a streaming read; refuses directories, specials and symlinks."""
    return await _in_thread(_open_file, root, path)


async def write_file(
    root: Path,
    path: str,
    chunks: AsyncIterable[bytes],
    *,
    max_bytes: int,
    owner: tuple[int, int] | None = None,
) -> Entry:
    """Write a file from chunks, atomically (a temp file renamed over it); makes parent dirs.

    More than `max_bytes` raises TooLarge and leaves nothing behind. `owner` (uid, gid) is
    given to the file and to the directories this creates, so the sandbox user can change them.
    """
    parts = parse_path(path)
    if not parts:
        raise PathRefused("/ is a directory")
    parent, temp_name, fd = await _in_thread(_create_temp, root, parts, owner)
    try:
        written = 0
        async for chunk in chunks:
            written += len(chunk)
            if written > max_bytes:
                raise TooLarge(f"the file is larger than the limit of {max_bytes} bytes")
            await _in_thread(_write_all, fd, chunk)
        os.close(fd)
        fd = -1
        return await _in_thread(_commit_temp, parent, temp_name, parts)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp_name, dir_fd=parent)
        raise
    finally:
        os.close(parent)


def _create_temp(
    root: Path, parts: tuple[str, ...], owner: tuple[int, int] | None
) -> tuple[int, str, int]:
    with _opened_dir(root, parts[:-1], create=True, owner=owner) as opened:
        parent = os.dup(opened)
    try:
        if _is_symlink(parent, parts[-1]):
            raise PathRefused(f"{display_path(parts)} is a symlink; symlinks are not followed")
        temp_name = f".{parts[-1][:200]}.upload-{secrets.token_hex(6)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(temp_name, flags, 0o644, dir_fd=parent)
        if owner is not None:
            os.fchown(fd, *owner)
    except BaseException:
        os.close(parent)
        raise
    return parent, temp_name, fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _commit_temp(parent: int, temp_name: str, parts: tuple[str, ...]) -> Entry:
    try:
        os.rename(temp_name, parts[-1], src_dir_fd=parent, dst_dir_fd=parent)
    except IsADirectoryError:
        raise PathRefused(f"{display_path(parts)} is a directory") from None
    return _entry(parent, parts[-1], display_path(parts))


def _delete(root: Path, path: str) -> None:
    parts = parse_path(path)
    if not parts:
        raise PathRefused("the workspace root cannot be deleted")
    shown = display_path(parts)
    with _opened_dir(root, parts[:-1]) as parent:
        try:
            info = os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            raise PathNotFound(f"{shown} does not exist") from None
        if stat.S_ISDIR(info.st_mode):
            # rmtree with dir_fd walks by descriptors and never follows symlinks.
            shutil.rmtree(parts[-1], dir_fd=parent)
        else:
            os.unlink(parts[-1], dir_fd=parent)


async def delete(root: Path, path: str) -> None:
    """Delete a file, a symlink (not its target) or a directory tree; never the root."""
    await _in_thread(_delete, root, path)


async def archive(root: Path, path: str) -> AsyncGenerator[bytes, None]:
    """A .tar.gz of a directory, streamed; symlinks are stored as links, never followed.

    The directory is checked before this returns, so a bad path raises here, not mid-stream.
    Member names are relative to the directory.
    """
    parts = parse_path(path)
    top = await _in_thread(_open_top, root, parts)
    return tar_gz_chunks(top)


def _open_top(root: Path, parts: tuple[str, ...]) -> int:
    with _opened_dir(root, parts) as fd:
        return os.dup(fd)

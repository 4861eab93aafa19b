"""A .tar.gz of an opened directory, streamed: tar runs in a thread, chunks flow back with
backpressure, and the thread stops if the reader goes away.

Everything is walked by file descriptor with O_NOFOLLOW, so symlinks are stored as links and
never followed, and a file swapped for a symlink while we archive is skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import stat
import tarfile
import threading
from collections.abc import AsyncGenerator
from typing import IO

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO a user planted must not hang the runner.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def scan(dir_fd: int) -> list[str]:
    """The names in a directory, sorted."""
    with os.scandir(dir_fd) as entries:
        return sorted(entry.name for entry in entries)


class _Abandoned(Exception):
    """The reader of an archive went away; the writer thread stops."""


class _ChunkPipe:
    """A write-only file object that hands tar's output to the event loop, with backpressure."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=8)
        self.abandoned = threading.Event()

    def write(self, data: bytes) -> int:
        self.put(bytes(data))
        return len(data)

    def put(self, item: bytes | BaseException | None) -> None:
        while True:
            if self.abandoned.is_set():
                raise _Abandoned
            with contextlib.suppress(queue.Full):
                self.chunks.put(item, timeout=0.2)
                return

    def get(self) -> bytes | BaseException | None:
        """The next chunk; None at the end or once abandoned (so no thread waits forever)."""
        while not self.abandoned.is_set():
            with contextlib.suppress(queue.Empty):
                return self.chunks.get(timeout=0.2)
        return None


async def tar_gz_chunks(top: int) -> AsyncGenerator[bytes, None]:
    """The .tar.gz of the directory `top` (a descriptor this takes over and closes)."""
    pipe = _ChunkPipe()
    writer = asyncio.create_task(asyncio.to_thread(_write_archive, top, pipe))
    try:
        while True:
            item = await asyncio.to_thread(pipe.get)
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        pipe.abandoned.set()
        with contextlib.suppress(_Abandoned):
            await writer


def _write_archive(top: int, pipe: _ChunkPipe) -> None:
    try:
        with tarfile.open(fileobj=pipe, mode="w|gz") as tar:  # type: ignore[call-overload]
            _add_tree(tar, top, "")
    except _Abandoned:
        raise
    except BaseException as error:
        pipe.put(error)
        return
    finally:
        os.close(top)
    pipe.put(None)


def _add_tree(tar: tarfile.TarFile, dir_fd: int, prefix: str) -> None:
    for name in scan(dir_fd):
        member = prefix + name
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            continue  # deleted while we archive
        header = tarfile.TarInfo(member)
        header.mode = stat.S_IMODE(info.st_mode)
        header.mtime = int(info.st_mtime)
        header.uid, header.gid = info.st_uid, info.st_gid
        if stat.S_ISLNK(info.st_mode):
            header.type = tarfile.SYMTYPE
            header.linkname = os.readlink(name, dir_fd=dir_fd)
            tar.addfile(header)
        elif stat.S_ISDIR(info.st_mode):
            header.type = tarfile.DIRTYPE
            tar.addfile(header)
            child = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
            try:
                _add_tree(tar, child, member + "/")
            finally:
                os.close(child)
        elif stat.S_ISREG(info.st_mode):
            _add_file(tar, dir_fd, name, header)


def _add_file(tar: tarfile.TarFile, dir_fd: int, name: str, header: tarfile.TarInfo) -> None:
    try:
        fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    except OSError:
        return  # replaced by a symlink or removed since we looked
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            return
        header.size = info.st_size
        tar.addfile(header, _Exactly(file, info.st_size))


class _Exactly:
    """Reads at most `size` bytes and pads with zeros: a file changing while archived is safe."""

    def __init__(self, file: IO[bytes], size: int) -> None:
        self._file = file
        self._left = size

    def read(self, size: int = -1) -> bytes:
        want = self._left if size < 0 else min(size, self._left)
        data = self._file.read(want)
        data += b"\0" * (want - len(data))
        self._left -= want
        return data

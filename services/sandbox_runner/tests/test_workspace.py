"""Workspace paths cannot escape: `..`, absolute paths, symlinks and NUL bytes are refused."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from skiff_sandbox_runner import workspace
from skiff_sandbox_runner.workspace import PathNotFound, PathRefused, TooLarge


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A workspace with a file, a subdirectory, and an outside world next to it."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text("secret")
    ws = tmp_path / "ws"
    (ws / "sub" / "deeper").mkdir(parents=True)
    (ws / "hello.txt").write_text("hello")
    (ws / "sub" / "deeper" / "leaf.txt").write_text("leaf")
    (ws / "to_root").symlink_to("/")
    (ws / "to_secret").symlink_to(tmp_path / "outside" / "secret")
    (ws / "to_outside_dir").symlink_to(tmp_path / "outside")
    (ws / "sub" / "up").symlink_to("../..")
    return ws


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def hidden_files(root: Path) -> list[str]:
    """Leftover temp files of an upload start with a dot."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


async def read_all(root: Path, path: str) -> bytes:
    reader = await workspace.open_file(root, path)
    return b"".join([chunk async for chunk in reader])


ESCAPES = [
    "..",
    "../outside/secret",
    "/../outside/secret",
    "sub/../../outside/secret",
    "to_secret",
    "to_root/etc/passwd",
    "to_outside_dir/secret",
    "sub/up/outside/secret",
    "hello\x00.txt",
    "a/" * 3000,
    "x" * 300,
]


@pytest.mark.parametrize("path", ESCAPES)
async def test_reading_an_escape_is_refused(root: Path, path: str) -> None:
    with pytest.raises(PathRefused):
        await read_all(root, path)


@pytest.mark.parametrize("path", ESCAPES)
async def test_writing_an_escape_is_refused_and_writes_nothing_outside(
    root: Path, path: str
) -> None:
    with pytest.raises(PathRefused):
        await workspace.write_file(root, path, chunks(b"pwned"), max_bytes=100)
    assert (root.parent / "outside" / "secret").read_text() == "secret"
    assert sorted(p.name for p in (root.parent / "outside").iterdir()) == ["secret"]


@pytest.mark.parametrize("path", ["to_root", "to_outside_dir", "sub/up", "../outside", "/.."])
async def test_listing_through_a_symlink_or_up_is_refused(root: Path, path: str) -> None:
    with pytest.raises(PathRefused):
        await workspace.list_dir(root, path)
    with pytest.raises(PathRefused):
        await workspace.tree(root, path, max_entries=100)
    with pytest.raises(PathRefused):
        await workspace.archive(root, path)


async def test_a_file_under_a_symlinked_directory_cannot_be_written(root: Path) -> None:
    with pytest.raises(PathRefused, match="symlink"):
        await workspace.write_file(root, "to_outside_dir/new", chunks(b"x"), max_bytes=10)
    assert not (root.parent / "outside" / "new").exists()


async def test_deleting_through_a_symlink_or_the_root_is_refused(root: Path) -> None:
    for path in ["to_outside_dir/secret", "sub/up/outside", "/", "", "."]:
        with pytest.raises(PathRefused):
            await workspace.delete(root, path)
    assert (root.parent / "outside" / "secret").exists()


async def test_deleting_a_symlink_removes_the_link_not_its_target(root: Path) -> None:
    await workspace.delete(root, "to_outside_dir")
    assert not (root / "to_outside_dir").is_symlink()
    assert (root.parent / "outside" / "secret").read_text() == "secret"


async def test_deleting_a_tree_with_a_symlink_inside_keeps_the_target(root: Path) -> None:
    await workspace.delete(root, "/sub")
    assert not (root / "sub").exists()
    assert (root.parent / "outside" / "secret").exists()
    with pytest.raises(PathNotFound):
        await workspace.delete(root, "sub")


async def test_absolute_paths_mean_the_workspace_root(root: Path) -> None:
    assert await read_all(root, "/hello.txt") == b"hello"
    assert await read_all(root, "//sub/./deeper/leaf.txt") == b"leaf"


async def test_list_shows_types_sizes_and_does_not_follow_symlinks(root: Path) -> None:
    entries = {entry.name: entry for entry in await workspace.list_dir(root, "/")}
    assert sorted(entries) == ["hello.txt", "sub", "to_outside_dir", "to_root", "to_secret"]
    assert entries["hello.txt"].type == "file"
    assert entries["hello.txt"].size == 5
    assert entries["hello.txt"].path == "/hello.txt"
    assert entries["sub"].type == "dir"
    assert {entries[n].type for n in ("to_root", "to_secret", "to_outside_dir")} == {"symlink"}
    assert entries["hello.txt"].mtime.tzinfo is not None


async def test_tree_walks_without_following_symlinks_and_is_bounded(root: Path) -> None:
    full = await workspace.tree(root, "/", max_entries=100)
    assert not full.truncated
    assert [e.path for e in full.entries] == [
        "/hello.txt",
        "/sub",
        "/to_outside_dir",
        "/to_root",
        "/to_secret",
        "/sub/deeper",
        "/sub/up",
        "/sub/deeper/leaf.txt",
    ]
    cut = await workspace.tree(root, "/", max_entries=3)
    assert cut.truncated
    assert len(cut.entries) == 3


async def test_missing_paths_are_not_found(root: Path) -> None:
    with pytest.raises(PathNotFound):
        await read_all(root, "nope.txt")
    with pytest.raises(PathNotFound):
        await workspace.list_dir(root, "nope")


async def test_directories_and_fifos_cannot_be_read_as_files(root: Path) -> None:
    os.mkfifo(root / "pipe")
    with pytest.raises(PathRefused, match="directory"):
        await read_all(root, "sub")
    with pytest.raises(PathRefused, match="regular"):
        await read_all(root, "pipe")
    with pytest.raises(PathRefused):
        await workspace.list_dir(root, "hello.txt")


async def test_write_round_trip_creates_parents_and_sets_the_owner(root: Path) -> None:
    uid, gid = os.getuid(), os.getgid()
    data = os.urandom(200_000)
    entry = await workspace.write_file(
        root,
        "/new/dir/blob.bin",
        chunks(data[:70_000], data[70_000:]),
        max_bytes=len(data),
        owner=(uid, gid),
    )
    assert entry.path == "/new/dir/blob.bin"
    assert entry.size == len(data)
    assert await read_all(root, "new/dir/blob.bin") == data
    assert (root / "new" / "dir" / "blob.bin").stat().st_uid == uid
    await workspace.write_file(root, "hello.txt", chunks(b"replaced"), max_bytes=100)
    assert await read_all(root, "hello.txt") == b"replaced"
    assert hidden_files(root) == []


async def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(root: Path) -> None:
    with pytest.raises(TooLarge):
        await workspace.write_file(root, "hello.txt", chunks(b"1234", b"5678"), max_bytes=6)
    assert (root / "hello.txt").read_text() == "hello"
    assert hidden_files(root) == []


async def test_writing_over_a_directory_or_the_root_is_refused(root: Path) -> None:
    with pytest.raises(PathRefused):
        await workspace.write_file(root, "sub", chunks(b"x"), max_bytes=10)
    with pytest.raises(PathRefused):
        await workspace.write_file(root, "/", chunks(b"x"), max_bytes=10)


async def test_archive_stores_symlinks_as_links(root: Path) -> None:
    big = os.urandom(300_000)
    (root / "sub" / "big.bin").write_bytes(big)
    data = b"".join([chunk async for chunk in await workspace.archive(root, "/")])
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        members = {member.name: member for member in tar.getmembers()}
        assert members["to_root"].issym()
        assert members["to_root"].linkname == "/"
        assert members["to_secret"].issym()
        assert members["sub/up"].linkname == "../.."
        assert members["sub"].isdir()
        assert tar.extractfile("hello.txt").read() == b"hello"  # type: ignore[union-attr]
        assert tar.extractfile("sub/big.bin").read() == big  # type: ignore[union-attr]
        assert tar.extractfile("sub/deeper/leaf.txt").read() == b"leaf"  # type: ignore[union-attr]
    assert not any("secret" in name and not members[name].issym() for name in members)


async def test_archive_of_a_subdirectory_is_relative_to_it(root: Path) -> None:
    data = b"".join([chunk async for chunk in await workspace.archive(root, "sub/deeper")])
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
        assert tar.getnames() == ["leaf.txt"]


async def test_an_abandoned_archive_stops_its_writer(root: Path) -> None:
    (root / "big.bin").write_bytes(os.urandom(3_000_000))
    stream = await workspace.archive(root, "/")
    async for _ in stream:
        break
    await stream.aclose()

"""Who may touch which workspace, and workspace errors as HTTP errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from skiff_kit.access import Access
from skiff_kit.errors import BadRequest, NotFound
from skiff_kit.internal_token import Principal

from skiff_sandbox_runner import workspace
from skiff_sandbox_runner.errors import PayloadTooLarge, SessionNotHeld
from skiff_sandbox_runner.runtime import Runtime

FILES = Access("sessions", doing="change a session's files")
may_write = FILES.may_write


@dataclass(frozen=True)
class Workspace:
    """The workspace of a held session, and who owns files written into it."""

    root: Path
    owner: tuple[int, int] | None


def session_workspace(rt: Runtime, session_id: str, principal: Principal) -> Workspace:
    """The workspace of a live session of the caller's organization held here, else 404."""
    held = rt.holdings.get(session_id, principal.organization_id)
    if held is None or held.status == "stopping":
        raise SessionNotHeld(f"Session {session_id} not found")
    FILES.may_read(principal)
    uid = rt.settings.sandbox_uid
    owner = (uid, uid) if held.sandbox.backend == "docker" else None
    return Workspace(root=held.sandbox.workspace, owner=owner)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """PathRefused → 400, PathNotFound → 404, TooLarge → 413."""
    try:
        yield
    except workspace.PathNotFound as exc:
        raise NotFound(exc.reason, code="path_not_found") from None
    except workspace.TooLarge as exc:
        raise PayloadTooLarge(exc.reason) from None
    except workspace.WorkspaceError as exc:
        raise BadRequest(exc.reason, code="path_refused") from None
    except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
        raise BadRequest(str(exc.strerror or exc), code="path_refused") from None

"""The in-memory view of `sandbox-placement`: session → the runner (and its address) holding it."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import structlog
from skiff_contracts.live import Placement

from skiff_gateway.placement.paths import RUNNER_SERVICE
from skiff_gateway.upstream import Upstream

log = structlog.get_logger("skiff_gateway.placement")


@dataclass(frozen=True, slots=True)
class Placed:
    """A placement with its address parsed once (the hot path only reads it)."""

    organization_id: str
    runner_id: str
    upstream: Upstream


def placed_of(value: bytes) -> Placed | None:
    """A bucket value as a `Placed`; None (logged) when it is not a usable placement."""
    try:
        placement = msgspec.json.decode(value, type=Placement)
        upstream = Upstream.parse(RUNNER_SERVICE, placement.url)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
        log.error("placement skipped", error=str(exc))
        return None
    return Placed(placement.organization_id, placement.runner_id, upstream)


class PlacementView:
    """Plain dict reads; fed by the bucket's watch (`apply`)."""

    def __init__(self) -> None:
        self.loaded = False  # True once the whole bucket was read
        self.sessions: dict[str, Placed] = {}

    def get(self, session_id: str) -> Placed | None:
        return self.sessions.get(session_id)

    def apply(self, session_id: str, value: bytes | None) -> None:
        """Take one record of the bucket (None: the session left its runner)."""
        placed = placed_of(value) if value else None
        if placed is None:
            self.sessions.pop(session_id, None)
        else:
            self.sessions[session_id] = placed

    def serves(self, base_url: str) -> bool:
        """True while some placed session still lives at `base_url`."""
        return any(p.upstream.base_url == base_url for p in self.sessions.values())

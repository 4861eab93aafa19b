"""Organization A as its owner acts in it: where factories make resources, and undo them."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

Headers = dict[str, str]
CleanUp = Callable[[], Awaitable[object]]


@dataclass(kw_only=True)
class OrganizationA:
    """The gateway, A's owner, ids made once and shared, and clean-ups of fresh resources."""

    gateway: httpx.AsyncClient
    nats_url: str
    org_a: str
    owner_a: Headers
    owner_a_email: str
    shared_ids: dict[str, str] = field(default_factory=dict)
    # Undo what a test's fresh resources hold (a running session counts against a limit).
    cleanups: list[CleanUp] = field(default_factory=list)
    final_cleanups: list[CleanUp] = field(default_factory=list)

    async def clean_up(self, which: list[CleanUp] | None = None) -> None:
        """Run and forget the pending clean-ups; one that fails does not stop the others."""
        pending = self.cleanups if which is None else which
        while pending:
            with contextlib.suppress(Exception):
                await pending.pop()()

    async def call(
        self,
        method: str,
        url: str,
        headers: Headers,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """One request through the gateway (a JSON body only when there is one).

        An event stream's body is not read (it never ends): its status and headers say enough.
        """
        content: dict[str, Any] = {} if json is None else {"json": json}
        request = self.gateway.build_request(method, url, headers=headers, params=params, **content)
        response = await self.gateway.send(request, stream=True)
        try:
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                await response.aread()
        finally:
            await response.aclose()
        return response

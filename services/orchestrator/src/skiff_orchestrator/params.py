"""Path and header parameters shared by the routes (bounded, so junk answers 400)."""

from __future__ import annotations

from typing import Annotated

from litestar.params import HeaderParameter, PathParameter, QueryParameter

SessionId = Annotated[str, PathParameter(max_length=40)]
TaskId = Annotated[str, PathParameter(max_length=40)]
LastEventId = Annotated[str | None, HeaderParameter(name="Last-Event-ID", max_length=40)]
LastEventIdQuery = Annotated[str | None, QueryParameter(max_length=40)]

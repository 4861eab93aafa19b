"""What the stand-ins' handlers take: the request, and an id from the path."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.datastructures import State
from litestar.params import PathParameter

AnyRequest = Request[Any, Any, State]
# Provider ids (`cs_test_...`, a UUID) in a path; declared, not inferred (Litestar 3).
PathId = Annotated[str, PathParameter(min_length=1, max_length=255)]

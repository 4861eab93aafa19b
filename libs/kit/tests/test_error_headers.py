"""Headers an error carries (a 429's `Retry-After`) go out with its error response."""

from __future__ import annotations

from collections.abc import Callable

from litestar import get
from litestar.testing import AsyncTestClient
from skiff_kit.app import create_app
from skiff_kit.errors import Conflict, TooManyRequests
from skiff_kit.settings import ServiceSettings


class SlowDown(TooManyRequests):
    """A domain 429 that sets its own header, as identity's throttle does."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Try again in {retry_after} seconds.",
            details={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


@get("/limited")
async def limited() -> None:
    """Refuse with a Retry-After."""
    raise SlowDown(42)


@get("/plain")
async def plain() -> None:
    """Refuse without any header of its own."""
    raise Conflict("Taken")


async def test_an_errors_headers_are_sent(make_settings: Callable[..., ServiceSettings]) -> None:
    app = create_app(make_settings(), route_handlers=[limited, plain])
    async with AsyncTestClient(app) as client:
        refused = await client.get("/limited")
        conflict = await client.get("/plain")

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "42"
    assert refused.json()["code"] == "too_many_attempts"
    assert refused.json()["details"] == {"retry_after": 42}
    assert refused.headers["x-request-id"] == refused.json()["request_id"]
    assert conflict.status_code == 409
    assert "retry-after" not in conflict.headers


def test_an_error_without_headers_has_an_empty_mapping() -> None:
    assert Conflict("Taken").headers == {}
    assert SlowDown(5).headers == {"Retry-After": "5"}

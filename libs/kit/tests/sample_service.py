"""A tiny service run as a real process by test_runner.py (`python sample_service.py [cmd]`)."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, Request, get
from skiff_kit.app import create_app
from skiff_kit.runner import run_service
from skiff_kit.settings import ServiceSettings


class SampleSettings(ServiceSettings, kw_only=True):
    """The sample's settings: one field of its own."""

    greeting: str = "hello"


def build(settings: SampleSettings) -> Litestar:
    @get("/greet", sync_to_thread=False)
    def greet() -> dict[str, str]:
        """Say the configured greeting."""
        return {"greeting": settings.greeting}

    @get("/whoami", sync_to_thread=False)
    def whoami(request: Request) -> dict[str, str]:  # type: ignore[type-arg]
        """The client address the server reports."""
        return {"client": request.client.host if request.client else ""}

    return create_app(settings, route_handlers=[greet, whoami])


if __name__ == "__main__":
    run_service(
        build, SampleSettings, script_location=str(Path(__file__).parent / "sample_migrations")
    )

"""`python -m skiff_sandbox_runner [serve|migrate|openapi]`."""

from pathlib import Path

from skiff_kit.runner import run_service

from skiff_sandbox_runner.app import create
from skiff_sandbox_runner.settings import SandboxRunnerSettings

run_service(
    create,
    SandboxRunnerSettings,
    script_location=str(Path(__file__).resolve().parents[2] / "migrations"),
)

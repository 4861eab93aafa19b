"""`python -m skiff_orchestrator [serve|migrate|openapi]`."""

from pathlib import Path

from skiff_kit.runner import run_service

from skiff_orchestrator.app import create
from skiff_orchestrator.settings import OrchestratorSettings

run_service(
    create,
    OrchestratorSettings,
    script_location=str(Path(__file__).resolve().parents[2] / "migrations"),
)

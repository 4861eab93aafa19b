"""`python -m skiff_identity [serve|migrate|openapi]`."""

from pathlib import Path

from skiff_kit.runner import run_service

from skiff_identity.app import create
from skiff_identity.settings import IdentitySettings

run_service(
    create,
    IdentitySettings,
    script_location=str(Path(__file__).resolve().parents[2] / "migrations"),
)

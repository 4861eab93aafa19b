"""`python -m skiff_billing [serve|migrate|openapi]`."""

from pathlib import Path

from skiff_kit.runner import run_service

from skiff_billing.app import create
from skiff_billing.settings import BillingSettings

run_service(
    create, BillingSettings, script_location=str(Path(__file__).resolve().parents[2] / "migrations")
)

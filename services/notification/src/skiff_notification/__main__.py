"""`python -m skiff_notification [serve|migrate|openapi]`."""

from pathlib import Path

from skiff_kit.runner import run_service

from skiff_notification.app import create
from skiff_notification.settings import NotificationSettings

run_service(
    create,
    NotificationSettings,
    script_location=str(Path(__file__).resolve().parents[2] / "migrations"),
)

"""A real service names a misspelled `SKIFF_*` variable at start, and not another service's."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(120)


def test_notification_warns_about_a_misspelled_setting_and_not_about_the_gateways() -> None:
    environment = {
        **os.environ,
        "SKIFF_SMTP_HOTS": "mail.example.com",  # meant: SKIFF_SMTP_HOST
        "SKIFF_RATELIMIT_KEY_PER_MINUTE": "1000",  # the gateway's, as in a shared .env
        "SKIFF_LOG_FORMAT": "json",
    }
    process = subprocess.run(
        [sys.executable, "-m", "skiff_notification", "openapi"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["info"]["title"]  # the document is untouched
    lines = [json.loads(line) for line in process.stderr.splitlines() if line.startswith("{")]
    warned = {
        line["variable"]: line for line in lines if line["event"] == "unknown setting ignored"
    }
    assert warned["SKIFF_SMTP_HOTS"]["did_you_mean"] == "SKIFF_SMTP_HOST"
    assert warned["SKIFF_SMTP_HOTS"]["level"] == "warning"
    assert warned["SKIFF_SMTP_HOTS"]["service"] == "notification"
    assert "SKIFF_RATELIMIT_KEY_PER_MINUTE" not in warned

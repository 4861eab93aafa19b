"""Fixtures of the tests that follow an event to its owners: a real SMTP server (aiosmtpd), the
streams the notification service reads, and the service itself sending mail to it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar.testing import AsyncTestClient
from nats.js import JetStreamContext
from skiff_embedded import free_port
from skiff_messaging.streams import ensure_streams
from skiff_notification.app import create
from skiff_notification.settings import NotificationSettings

sys.path.insert(0, str(Path(__file__).parents[1] / "email"))
sys.path.insert(0, str(Path(__file__).parents[1] / "webhooks"))

from email_support import Mailbox, smtp_server

PUBLIC_URL = "https://skiff.example"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    with smtp_server(port, box):
        yield box, port


@pytest.fixture
async def streams(nats_url: str) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    await ensure_streams(js, ["IDENTITY", "BILLING", "ORCHESTRATOR", "SANDBOX"])
    yield js
    await connection.drain()


@pytest.fixture
async def service(
    make_settings: Callable[..., NotificationSettings],
    mailbox: tuple[Mailbox, int],
    streams: JetStreamContext,
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = make_settings(
        smtp_host="127.0.0.1", smtp_port=mailbox[1], public_url=PUBLIC_URL, email_poll_seconds=0.1
    )
    async with AsyncTestClient(create(settings)) as client:
        yield client

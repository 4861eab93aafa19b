"""One attempt: POST the exact body with its signatures, and say what happened."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from skiff_notification.webhooks import signing
from skiff_notification.webhooks.network import AddressBlocked, ResolutionFailed
from skiff_notification.webhooks.schedule import parse_retry_after

EXCERPT_BYTES = 4096
DNS, CONNECT, TLS, TIMEOUT, BLOCKED, TOO_LARGE = (
    "dns",
    "connect",
    "tls",
    "timeout",
    "blocked_address",
    "too_large",
)


@dataclass(frozen=True)
class Outcome:
    """The answer's status (or the error class), how long it took, what it said."""

    status_code: int | None
    error: str | None
    duration_ms: int
    excerpt: str
    retry_after: timedelta | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def attempt(
    client: httpx.AsyncClient,
    *,
    url: str,
    message_id: str,
    body: bytes,
    secrets: list[str],
    timeout_seconds: float,
) -> Outcome:
    """Send once; never raises for anything the receiver or the network does."""
    started = time.monotonic()
    sent_at = datetime.now(UTC)  # the receiver checks this against its own clock

    def outcome(error: str, excerpt: str) -> Outcome:
        return Outcome(None, error, _ms(started), excerpt[:EXCERPT_BYTES])

    try:
        async with asyncio.timeout(timeout_seconds):  # httpx's timeouts are per read
            request = client.build_request(
                "POST",
                url,
                content=body,
                headers=signing.headers(message_id, body, secrets, sent_at),
            )
            response = await client.send(request, stream=True)
            try:
                excerpt = await _first_bytes(response)
            finally:
                await response.aclose()
    except AddressBlocked as exc:
        return outcome(BLOCKED, str(exc))
    except ResolutionFailed as exc:
        return outcome(DNS, str(exc))
    except (TimeoutError, httpx.TimeoutException):
        return outcome(TIMEOUT, f"no answer within {timeout_seconds:g} s")
    except httpx.HTTPError as exc:
        return outcome(TLS if _is_tls(exc) else CONNECT, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # anything else is logged as an attempt too, never retried blind
        return outcome(CONNECT, f"{type(exc).__name__}: {exc}")
    return Outcome(
        response.status_code,
        None,
        _ms(started),
        excerpt,
        parse_retry_after(response.headers.get("retry-after"), sent_at),
    )


async def _first_bytes(response: httpx.Response) -> str:
    kept = bytearray()
    async for chunk in response.aiter_raw():
        kept += chunk
        if len(kept) >= EXCERPT_BYTES:
            break
    return bytes(kept[:EXCERPT_BYTES]).decode("utf-8", errors="replace")


def _is_tls(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, ssl.SSLError | ssl.CertificateError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

"""The limits of account security, read once from settings: token lifetimes and throttle rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from skiff_identity.settings import IdentitySettings


@dataclass(frozen=True)
class ThrottleRule:
    """`max_failures` attempts per `kind` and key, then blocks doubling from `block_seconds`."""

    kind: str
    max_failures: int
    block_seconds: int
    max_block_seconds: int
    window_seconds: int


@dataclass(frozen=True)
class SecurityPolicy:
    """Everything verification, reset, throttling and locking need to know."""

    verification_ttl: timedelta
    reset_ttl: timedelta
    login_account: ThrottleRule
    login_ip: ThrottleRule
    token_ip: ThrottleRule
    mail_account: ThrottleRule
    mail_ip: ThrottleRule
    lock_after_failures: int


def policy_from(settings: IdentitySettings) -> SecurityPolicy:
    """The policy of `settings` (`SKIFF_THROTTLE_*`, the TTLs, `SKIFF_LOCK_AFTER_FAILURES`)."""

    def rule(kind: str, max_failures: int) -> ThrottleRule:
        return ThrottleRule(
            kind=kind,
            max_failures=max(1, max_failures),
            block_seconds=settings.throttle_block_seconds,
            max_block_seconds=settings.throttle_max_block_seconds,
            window_seconds=settings.throttle_window_seconds,
        )

    return SecurityPolicy(
        verification_ttl=timedelta(hours=settings.email_verification_ttl_hours),
        reset_ttl=timedelta(minutes=settings.password_reset_ttl_minutes),
        login_account=rule("login_account", settings.throttle_account_max_failures),
        login_ip=rule("login_ip", settings.throttle_ip_max_failures),
        token_ip=rule("token_ip", settings.throttle_token_max_failures),
        mail_account=rule("mail_account", settings.throttle_mail_max_requests),
        mail_ip=rule("mail_ip", settings.throttle_ip_max_failures),
        lock_after_failures=settings.lock_after_failures,
    )

"""The orchestrator's domain errors, each with its HTTP status and code (API.md, Errors)."""

from __future__ import annotations

from skiff_kit.errors import Conflict, NotFound, PaymentRequired, ServiceUnavailable, SkiffError


class SessionNotFound(NotFound):
    code = "session_not_found"
    default_message = "No such session."


class TaskNotFound(NotFound):
    code = "task_not_found"
    default_message = "No such task."


class SessionNotRunning(Conflict):
    code = "session_not_running"
    default_message = "The session is not running."


class SessionNotPaused(Conflict):
    code = "session_not_paused"
    default_message = "The session is not paused."


class TaskNotRunning(Conflict):
    code = "task_not_running"
    default_message = "The task is not running."


class TooManySessions(SkiffError):
    status_code = 429
    code = "too_many_sessions"
    default_message = "Too many live sessions in this organization."


class InsufficientCredits(PaymentRequired):
    code = "insufficient_credits"


class BillingUnavailable(ServiceUnavailable):
    code = "billing_unavailable"
    default_message = "Billing did not answer the credit check; try again shortly."


class RunnerUnavailable(ServiceUnavailable):
    code = "runner_unavailable"
    default_message = "The sandbox runner that holds this session did not answer."

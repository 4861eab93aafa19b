"""The explicit exceptions of the matrix, each with the reason it is one.

Kept short and checked against the document: an entry naming an operation that no longer
exists fails the matrix, so the lists cannot rot.
"""

from __future__ import annotations

# Reached without credentials. The matrix checks this list against the document
# (`security: []`) and against the gateway's own rule (skiff_gateway.routing.is_anonymous and
# the gateway's own paths), so a route cannot become anonymous unnoticed.
ANONYMOUS: dict[str, str] = {
    "POST /api/v1/auth/register": "signing up is how a caller gets credentials",
    "POST /api/v1/auth/login": "signing in is how a caller gets credentials",
    "POST /api/v1/auth/refresh": "the refresh token in the body is the credential",
    "POST /api/v1/auth/verify-email": "the emailed token in the body is the credential",
    "POST /api/v1/auth/forgot-password": "the caller has lost their credentials",
    "POST /api/v1/auth/reset-password": "the emailed token in the body is the credential",
    "GET /api/v1/auth/oauth/{provider}/authorize": "starts a sign-in with a provider",
    "GET /api/v1/auth/oauth/{provider}/callback": "the provider's signed state is the credential",
    "GET /api/v1/health/deep": "the gateway's own health probe, answered before authentication",
    "POST /webhooks/stripe": "Stripe calls it; the Stripe-Signature of the body is the credential",
    "POST /webhooks/polar": "Polar calls it; the Standard Webhooks signature is the credential",
    "POST /api/v1/notifications/unsubscribe": "one-click unsubscribe: its signed token is the key",
}

# Writes a viewer may make: none of them changes the acting organization.
VIEWER_MAY_WRITE: dict[str, str] = {
    "POST /api/v1/auth/logout": "ends the caller's own sessions",
    "POST /api/v1/auth/resend-verification": "concerns the caller's own account",
    "POST /api/v1/organizations": "creates a new organization the caller owns, not a change to A",
    "PATCH /api/v1/notifications/{notification_id}": "marks the caller's own notification",
    "POST /api/v1/notifications/read-all": "marks the caller's own notifications",
    "PUT /api/v1/notifications/preferences": "the caller's own notification preferences",
}

# Paths whose id is not an organization's resource: (status, code) a stranger gets instead of
# 404, and why.
NOT_ORGANIZATION_SCOPED: dict[str, tuple[int, str, str]] = {
    "POST /api/v1/invites/{token}/accept": (
        403,
        "invite_email_mismatch",
        "the token is a secret capability addressed to one email, not an id of A: a holder "
        "with another email is refused, whatever their organization",
    ),
}

"""HTTP bodies of verification, forgot and reset password."""

from __future__ import annotations

from typing import Annotated

import msgspec

from skiff_identity.auth.schemas import Email, Password, UserOut

Token = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class VerifyEmailRequest(msgspec.Struct, forbid_unknown_fields=True):
    token: Token


class VerifyEmailResponse(msgspec.Struct):
    user: UserOut


class ForgotPasswordRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class ResetPasswordRequest(msgspec.Struct, forbid_unknown_fields=True):
    token: Token
    password: Password


class MessageOut(msgspec.Struct):
    message: str


FORGOT_ANSWER = MessageOut(
    message="If an account exists for this address, a link to reset its password is on its way."
)
RESENT_ANSWER = MessageOut(message="A new verification link is on its way.")
RESET_ANSWER = MessageOut(
    message="Your password is changed and every session is signed out. Log in again."
)

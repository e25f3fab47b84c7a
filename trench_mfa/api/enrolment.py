"""The enrolment token's authentication: accepted by the activation endpoints only.

A user whom ``REQUIRE_MFA_FOR`` makes have MFA and who has none gets an
enrolment token at login step 1 (:mod:`trench_mfa.services.enrolment`)
instead of tokens. The activation views add
:class:`EnrolmentTokenAuthentication` to the project's authentication
classes, so ``Authorization: MFA-Enrolment <token>`` authenticates there and
nowhere else.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from trench_mfa.services import enrolment
from trench_mfa.user import AnyUser


def _user(pk: str) -> AnyUser | None:
    model = get_user_model()
    try:
        return model._default_manager.filter(pk=pk).first()
    except (ValidationError, ValueError, TypeError, OverflowError):
        return None


class EnrolmentTokenAuthentication(BaseAuthentication):
    """``Authorization: MFA-Enrolment <token>``: the user who must set up MFA."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        """The token's user; ``None`` for other schemes; 401 for a bad token."""
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() != enrolment.KEYWORD.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed()
        user = enrolment.user_for_token(parts[1].decode("latin-1"), _user)
        if user is None:
            raise AuthenticationFailed()
        return user, None

    def authenticate_header(self, request: Request) -> str:
        """The scheme, for the ``WWW-Authenticate`` header of a 401."""
        return enrolment.KEYWORD


class AcceptsEnrolmentToken:
    """View mixin: the project's authentication classes plus the enrolment token."""

    def get_authenticators(self) -> list[BaseAuthentication]:
        """The project's authenticators, then :class:`EnrolmentTokenAuthentication`."""
        found: list[BaseAuthentication] = super().get_authenticators()  # type: ignore[misc]
        return [*found, EnrolmentTokenAuthentication()]

"""Login endpoints shared by the JWT and authtoken flavours.

The flavours differ only in :meth:`LoginMixin.token_response`, which turns
an authenticated user into the project's tokens.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import serializers as s
from trench_mfa.api.base import MFAView
from trench_mfa.api.views import dispatch_response
from trench_mfa.services import login

ERRORS: dict[int, Any] = {
    400: s.ErrorResponseSerializer,
    401: s.ErrorResponseSerializer,
    429: s.ErrorResponseSerializer,
    503: s.ErrorResponseSerializer,
}


class LoginMixin(MFAView):
    """Anonymous access, and the hook that issues the final tokens."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @abstractmethod
    def token_response(self, user: Any) -> Response:
        """The response carrying the project's tokens for ``user``."""


class FirstStepView(LoginMixin):
    """Login step 1: password; tokens, or a challenge when MFA is on."""

    def post(self, request: Request) -> Response:
        """Check the credentials and start the challenge if needed."""
        data = self.validated(s.LoginSerializer, request)
        step = login.start_login(
            request, data[s.LoginSerializer.username_field()], data["password"]
        )
        if not step.needs_code:
            return self.token_response(step.user)
        return Response(
            {
                "ephemeral_token": step.ephemeral_token,
                "method": step.method,
                "other_methods": step.other_methods,
                "factors_remaining": [],
            }
        )


class SecondStepView(LoginMixin):
    """Login step 2: the ephemeral token and a code give the tokens."""

    def post(self, request: Request) -> Response:
        """Verify the code and issue tokens."""
        data = self.validated(s.LoginCodeSerializer, request)
        user = login.complete_login(data["ephemeral_token"], data["code"], data.get("method"))
        return self.token_response(user)


class CodeRequestView(LoginMixin):
    """Re-send the login code without the password."""

    def token_response(self, user: Any) -> Response:  # pragma: no cover - never issues tokens
        """Not used: this view never issues tokens."""
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        """Dispatch the challenged (or named) method's code again."""
        data = self.validated(s.LoginCodeRequestSerializer, request)
        return dispatch_response(
            login.resend_login_code(data["ephemeral_token"], data.get("method"))
        )

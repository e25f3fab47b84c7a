"""Passwordless login with a passkey: ``passkey/begin/`` then ``passkey/``.

The JWT and authtoken flavours (:mod:`trench_mfa.api.jwt`,
:mod:`trench_mfa.api.authtoken`) add only how the tokens are issued; the
flow itself is :mod:`trench_mfa.login.passkey`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import serializers as s
from trench_mfa.api.login import LoginMixin
from trench_mfa.api.throttles import LoginIPThrottle
from trench_mfa.login import passkey
from trench_mfa.login.amr import VerifiedFactor

ERRORS: dict[int, Any] = {
    400: s.BAD_REQUEST_SCHEMA,
    401: s.ErrorResponseSerializer,
    404: s.ErrorResponseSerializer,
    415: s.DetailResponseSerializer,
    429: s.ErrorResponseSerializer,
}


class PasskeyBeginView(LoginMixin):
    """Start a passkey login: an ephemeral token and the options for ``credentials.get()``.

    Throttled per client IP like login step 1 (scope ``trench_mfa_login``).
    """

    throttle_classes = (LoginIPThrottle,)

    def token_response(  # pragma: no cover - never issues tokens
        self, user: Any, *, verified: Sequence[VerifiedFactor] = ()
    ) -> Response:
        """Not used: this view never issues tokens."""
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        """A new challenge, bound to the token it returns."""
        token, options = passkey.begin(request)
        return Response({"ephemeral_token": token, "options": options})


class PasskeyFinishView(LoginMixin):
    """Finish a passkey login: the signed answer gives the tokens."""

    def post(self, request: Request) -> Response:
        """Check the answer; the tokens of the credential's user."""
        data = self.validated(s.PasskeyLoginSerializer, request)
        step = passkey.finish(data["ephemeral_token"], data["code"], request=request)
        return self.step_response(step)

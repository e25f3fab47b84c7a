"""Login endpoints shared by the JWT and authtoken flavours.

The flavours differ only in :meth:`LoginMixin.token_response`, which turns
an authenticated user (and what the login verified) into the project's
tokens.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import flow_serializers as fs
from trench_mfa.api import serializers as s
from trench_mfa.api.base import MFAView
from trench_mfa.api.devices import enrolment_response, with_device
from trench_mfa.api.throttles import LoginIPThrottle, LoginUsernameThrottle, SendIPThrottle
from trench_mfa.api.views import dispatch_response
from trench_mfa.login import factors, gate, start
from trench_mfa.login.amr import VerifiedFactor
from trench_mfa.login.steps import LoginStep

ERRORS: dict[int, Any] = {
    400: s.BAD_REQUEST_SCHEMA,
    401: s.ErrorResponseSerializer,
    # DRF's answer to a body in a format no parser takes (a broken multipart).
    415: s.DetailResponseSerializer,
    429: s.ErrorResponseSerializer,
    503: s.ErrorResponseSerializer,
}


class LoginMixin(MFAView):
    """Anonymous access, and the hook that issues the final tokens."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @abstractmethod
    def token_response(self, user: Any, *, verified: Sequence[VerifiedFactor] = ()) -> Response:
        """The response carrying the project's tokens for ``user``.

        ``verified`` lists the factors the login verified (JWT: the ``amr``
        and ``mfa_at`` claims, see :mod:`trench_mfa.login.amr`).
        """

    def step_response(self, step: LoginStep) -> Response:
        """The tokens, the challenge of the next factor, or an enrolment token."""
        if step.enrolment_token is not None:
            return enrolment_response(step.enrolment_token)
        if not step.needs_code:
            response = self.token_response(step.user, verified=step.verified)
            return with_device(response, step, secure=self.request.is_secure())
        return Response(
            {
                "ephemeral_token": step.ephemeral_token,
                "method": step.method,
                "other_methods": step.other_methods,
                "factors_remaining": step.factors_remaining,
            }
        )


class FirstStepView(LoginMixin):
    """Login step 1: identifier and password (or a flow's secrets); tokens or a challenge.

    Throttled per client IP and per submitted username (scope
    ``trench_mfa_login``, see :mod:`trench_mfa.api.throttles`).
    """

    throttle_classes = (LoginIPThrottle, LoginUsernameThrottle)

    def post(self, request: Request) -> Response:
        """Check the credentials and start the challenge if needed."""
        data = self.validated(fs.FlowLoginSerializer, request)
        return self.step_response(start.start_login(request, data))


class SecondStepView(LoginMixin):
    """Login step 2: the ephemeral token and a code give the tokens."""

    def post(self, request: Request) -> Response:
        """Verify the code: the next factor's challenge, or the tokens after the last one."""
        data = self.validated(s.LoginCodeSerializer, request)
        step = gate.answer(
            data["ephemeral_token"],
            data["code"],
            data.get("method"),
            remember=data["remember_device"],
            request=request,
        )
        return self.step_response(step)


class CodeRequestView(LoginMixin):
    """Re-send the login code without the password."""

    throttle_classes = (SendIPThrottle,)

    def token_response(  # pragma: no cover - never issues tokens
        self, user: Any, *, verified: Sequence[VerifiedFactor] = ()
    ) -> Response:
        """Not used: this view never issues tokens."""
        raise NotImplementedError

    def post(self, request: Request) -> Response:
        """Dispatch the challenged (or named) method's code again."""
        data = self.validated(s.LoginCodeRequestSerializer, request)
        return dispatch_response(
            factors.resend(data["ephemeral_token"], data.get("method"), request=request)
        )

"""Identifier verification and hardcode endpoints (``trench_mfa.urls``)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import flow_serializers as fs
from trench_mfa.api import serializers as s
from trench_mfa.api.base import MFAView
from trench_mfa.api.schema import document
from trench_mfa.api.throttles import LoginIPThrottle, SendIPThrottle
from trench_mfa.api.views import dispatch_response
from trench_mfa.services import hardcode, identifiers

_ERRORS: dict[int, Any] = {
    400: s.BAD_REQUEST_SCHEMA,
    401: s.DetailResponseSerializer,
    # DRF's answer to a body in a format no parser takes (a broken multipart).
    415: s.DetailResponseSerializer,
    429: s.ErrorResponseSerializer,
    503: s.ErrorResponseSerializer,
}


def _confirmed() -> Response:
    return Response({"details": _("Address confirmed.")})


class VerificationRequestView(MFAView):
    """Send a verification code (and, by email, a link) to one of the user's identifiers."""

    permission_classes = (IsAuthenticated,)
    throttle_classes = (SendIPThrottle,)

    @document(
        request=fs.VerificationRequestSerializer,
        responses={200: s.DispatchResponseSerializer, **_ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Dispatch the code of the named field."""
        data = self.validated(fs.VerificationRequestSerializer, request)
        return dispatch_response(
            identifiers.request_code(request.user, data["field"], request=request)
        )


class VerificationConfirmView(MFAView):
    """Confirm an identifier of the user with the code sent to it."""

    permission_classes = (IsAuthenticated,)

    @document(request=s.CodeSerializer, responses={200: fs.DetailsResponseSerializer, **_ERRORS})
    def post(self, request: Request, field: str) -> Response:
        """Check the code; the current value of ``field`` becomes confirmed."""
        data = self.validated(s.CodeSerializer, request)
        identifiers.confirm_code(request.user, field, data["code"], request=request)
        return _confirmed()


class VerificationLinkView(MFAView):
    """The confirmation link sent by email: opening it confirms the address."""

    permission_classes = (AllowAny,)
    authentication_classes = ()

    @document(responses={200: fs.DetailsResponseSerializer, 400: s.ErrorResponseSerializer})
    def get(self, request: Request, key: str) -> Response:
        """Confirm the value the link was sent to, if it is still the user's."""
        identifiers.confirm_link(key)
        return _confirmed()


class HardcodeView(MFAView):
    """Set or change the user's hardcode (the current password or a code confirms it).

    Throttled like login step 1, per client IP, so the password check is no
    faster way to guess the password.
    """

    permission_classes = (IsAuthenticated,)
    throttle_classes = (LoginIPThrottle,)

    @document(request=fs.HardcodeSerializer, responses={204: None, **_ERRORS})
    def post(self, request: Request) -> Response:
        """Store the new hardcode."""
        data = self.validated(fs.HardcodeSerializer, request)
        hardcode.set_hardcode(
            request.user,
            data["hardcode"],
            password=data.get("password"),
            code=data.get("code"),
            method=data.get("method"),
            request=request,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

"""Login views issuing djangorestframework-simplejwt tokens."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework_simplejwt.tokens import RefreshToken

from trench_mfa.api import login, passkey
from trench_mfa.api import serializers as s
from trench_mfa.api.schema import document
from trench_mfa.login.amr import VerifiedFactor, token_claims


class JWTTokenMixin:
    """Issue a refresh and an access token carrying the ``amr`` and ``mfa_at`` claims."""

    def token_response(self, user: Any, *, verified: Sequence[VerifiedFactor] = ()) -> Response:
        """``{"refresh", "access"}`` for ``user``.

        The claims go into the refresh token: simplejwt copies every claim
        but ``token_type``, ``exp``, ``jti`` and ``iat`` into the access
        tokens made from it, now and at each refresh.
        """
        refresh = RefreshToken.for_user(user)
        for claim, value in token_claims(verified).items():
            refresh[claim] = value
        return Response({"refresh": str(refresh), "access": str(refresh.access_token)})


class MFAFirstStepJWTView(JWTTokenMixin, login.FirstStepView):
    """Login step 1, JWT flavour."""

    @document(
        request=s.LoginSerializer, responses={200: s.JWTLoginResponseSerializer, **login.ERRORS}
    )
    def post(self, request: Request) -> Response:
        """Check the password; tokens or a challenge."""
        return super().post(request)


class MFASecondStepJWTView(JWTTokenMixin, login.SecondStepView):
    """Login step 2, JWT flavour."""

    @document(
        request=s.LoginCodeSerializer, responses={200: s.JWTResponseSerializer, **login.ERRORS}
    )
    def post(self, request: Request) -> Response:
        """Verify the code; tokens."""
        return super().post(request)


class MFACodeRequestJWTView(login.CodeRequestView):
    """Re-send the login code, JWT flavour."""

    @document(
        request=s.LoginCodeRequestSerializer,
        responses={200: s.DispatchResponseSerializer, **login.ERRORS},
        operation_id="jwt_login_code_request",
    )
    def post(self, request: Request) -> Response:
        """Send the code again."""
        return super().post(request)


class PasskeyBeginJWTView(passkey.PasskeyBeginView):
    """Start a passkey login, JWT flavour."""

    @document(
        request=None,
        responses={200: s.PasskeyBeginResponseSerializer, **passkey.ERRORS},
        operation_id="jwt_passkey_begin",
    )
    def post(self, request: Request) -> Response:
        """An ephemeral token and the options for ``navigator.credentials.get()``."""
        return super().post(request)


class PasskeyJWTView(JWTTokenMixin, passkey.PasskeyFinishView):
    """Finish a passkey login, JWT flavour."""

    @document(
        request=s.PasskeyLoginSerializer,
        responses={200: s.JWTResponseSerializer, **passkey.ERRORS},
        operation_id="jwt_passkey_login",
    )
    def post(self, request: Request) -> Response:
        """Check the passkey's answer; tokens."""
        return super().post(request)

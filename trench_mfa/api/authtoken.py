"""Login views issuing DRF authtoken keys, and logout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import login, passkey
from trench_mfa.api import serializers as s
from trench_mfa.api.base import MFAView
from trench_mfa.api.schema import document
from trench_mfa.exceptions import Unauthenticated
from trench_mfa.login.amr import VerifiedFactor
from trench_mfa.state import authtokens


class AuthTokenMixin:
    """Issue (or reuse) the user's authtoken key."""

    def token_response(self, user: Any, *, verified: Sequence[VerifiedFactor] = ()) -> Response:
        """``{"auth_token": key}`` for ``user``.

        An authtoken key carries no claims, so ``verified`` is not recorded:
        :class:`~trench_mfa.permissions.IsMFAAuthenticated` refuses it. A
        login that verified no code (MFA off; a remembered device counts as
        one) gets its key only while MFA is
        still off (``ROTATE_AUTHTOKEN_ON_ENABLE``): a first method confirmed
        meanwhile deleted the key, and this login is refused like a wrong
        password (``400 unauthenticated``); a new login gets the challenge.
        """
        key = authtokens.login_key(user, code_verified=any(f.stands_for_mfa for f in verified))
        if key is None:
            raise Unauthenticated()
        return Response({"auth_token": key})


class MFAFirstStepAuthTokenView(AuthTokenMixin, login.FirstStepView):
    """Login step 1, authtoken flavour."""

    @document(
        request=s.LoginSerializer,
        responses={200: s.AuthTokenLoginResponseSerializer, **login.ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Check the password; a token or a challenge."""
        return super().post(request)


class MFASecondStepAuthTokenView(AuthTokenMixin, login.SecondStepView):
    """Login step 2, authtoken flavour."""

    @document(
        request=s.LoginCodeSerializer,
        responses={200: s.AuthTokenResponseSerializer, **login.ERRORS},
    )
    def post(self, request: Request) -> Response:
        """Verify the code; a token."""
        return super().post(request)


class MFACodeRequestAuthTokenView(login.CodeRequestView):
    """Re-send the login code, authtoken flavour."""

    @document(
        request=s.LoginCodeRequestSerializer,
        responses={200: s.DispatchResponseSerializer, **login.ERRORS},
        operation_id="token_login_code_request",
    )
    def post(self, request: Request) -> Response:
        """Send the code again."""
        return super().post(request)


class PasskeyBeginAuthTokenView(passkey.PasskeyBeginView):
    """Start a passkey login, authtoken flavour."""

    @document(
        request=None,
        responses={200: s.PasskeyBeginResponseSerializer, **passkey.ERRORS},
        operation_id="token_passkey_begin",
    )
    def post(self, request: Request) -> Response:
        """An ephemeral token and the options for ``navigator.credentials.get()``."""
        return super().post(request)


class PasskeyAuthTokenView(AuthTokenMixin, passkey.PasskeyFinishView):
    """Finish a passkey login, authtoken flavour."""

    @document(
        request=s.PasskeyLoginSerializer,
        responses={200: s.AuthTokenResponseSerializer, **passkey.ERRORS},
        operation_id="token_passkey_login",
    )
    def post(self, request: Request) -> Response:
        """Check the passkey's answer; a token."""
        return super().post(request)


class LogoutView(MFAView):
    """Delete the user's authtoken."""

    permission_classes = (IsAuthenticated,)

    @document(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        """Log out: the token stops working."""
        authtokens.delete_key(cast(Any, request.user).pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

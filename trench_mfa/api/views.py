"""Method management endpoints (``trench_mfa.urls``)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import serializers as s
from trench_mfa.api.base import MFAView
from trench_mfa.api.enrolment import AcceptsEnrolmentToken
from trench_mfa.api.schema import document
from trench_mfa.api.throttles import SendIPThrottle
from trench_mfa.backends.base import DispatchResult
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import NoPrimaryMethod
from trench_mfa.services import methods
from trench_mfa.state import authtokens

_ERRORS: dict[int, Any] = {
    400: s.BAD_REQUEST_SCHEMA,
    401: s.DetailResponseSerializer,
    # DRF's answer to a body in a format no parser takes (a broken multipart).
    415: s.DetailResponseSerializer,
    429: s.ErrorResponseSerializer,
    503: s.ErrorResponseSerializer,
}
#: Errors of the read-only endpoints that need a logged-in user.
_AUTH_ERRORS: dict[int, Any] = {401: s.DetailResponseSerializer}


#: Errors that django-trench raises while validating the ``code`` field of a
#: protected action (activation confirmation, deactivation, regeneration):
#: it reports them as field errors of ``code``.
_CODE_FIELD_ERRORS = dict.fromkeys(
    (
        "code_invalid_or_expired",
        "invalid_input",
        "method_already_active",
        "mfa_method_does_not_exist",
        "not_enabled",
        "otp_code_missing",
    ),
    "code",
)


def dispatch_response(result: DispatchResult) -> Response:
    """The body of a successful dispatch: ``details`` plus any extra fields."""
    return Response({"details": result.details, **result.extra})


class MFAMethodActivationView(AcceptsEnrolmentToken, MFAView):
    """Start activating a method: its code (or QR code) is sent."""

    permission_classes = (IsAuthenticated,)
    throttle_classes = (SendIPThrottle,)

    @document(
        request=s.OptionalCodeSerializer, responses={200: s.DispatchResponseSerializer, **_ERRORS}
    )
    def post(self, request: Request, method: str) -> Response:
        """Create the pending method and dispatch its activation code.

        With MFA on, ``code`` is a current code of the primary method (or a
        backup code).
        """
        data = self.validated(s.OptionalCodeSerializer, request)
        return dispatch_response(
            methods.activate_method(request.user, method, data.get("code"), request=request)
        )


class MFAMethodConfirmActivationView(AcceptsEnrolmentToken, MFAView):
    """Confirm activation with a code; the first method returns backup codes."""

    permission_classes = (IsAuthenticated,)
    field_errors = _CODE_FIELD_ERRORS

    @document(
        request=s.CodeSerializer, responses={200: s.ConfirmActivationResponseSerializer, **_ERRORS}
    )
    def post(self, request: Request, method: str) -> Response:
        """Activate the method when the code verifies.

        When this turns MFA on, a caller that authenticated with the user's
        authtoken key gets the key that replaces it (``auth_token``).
        """
        data = self.validated(s.CodeSerializer, request)
        confirmed = methods.confirm_activation(
            request.user,
            method,
            data["code"],
            request=request,
            reissue_key=authtokens.is_key(request.auth),
        )
        body: dict[str, Any] = {"backup_codes": confirmed.backup_codes}
        if confirmed.auth_token is not None:
            body["auth_token"] = confirmed.auth_token
        return Response(body)


class MFAMethodDeactivationView(MFAView):
    """Deactivate a method (a current code is required by default)."""

    permission_classes = (IsAuthenticated,)
    field_errors = _CODE_FIELD_ERRORS

    @document(request=s.ProtectedActionSerializer, responses={204: None, **_ERRORS})
    def post(self, request: Request, method: str) -> Response:
        """Deactivate; the last method turns MFA off."""
        required = mfa_settings.CONFIRM_DISABLE_WITH_CODE
        data = self.validated(s.ProtectedActionSerializer, request, code_required=required)
        methods.deactivate_method(request.user, method, data.get("code"), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MFAMethodBackupCodesRegenerationView(MFAView):
    """Replace the user's backup codes."""

    permission_classes = (IsAuthenticated,)
    field_errors = _CODE_FIELD_ERRORS

    @document(
        request=s.ProtectedActionSerializer,
        responses={200: s.BackupCodesResponseSerializer, **_ERRORS},
    )
    def post(self, request: Request, method: str) -> Response:
        """Return the new set (shown once)."""
        methods.require_regeneration_allowed()  # django-trench checks it before the body
        required = mfa_settings.CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE
        data = self.validated(s.ProtectedActionSerializer, request, code_required=required)
        codes = methods.regenerate_backup_codes(
            request.user, method, data.get("code"), request=request
        )
        return Response({"backup_codes": codes})


class MFAMethodRequestCodeView(MFAView):
    """Send a code for a protected action (default: the primary method)."""

    permission_classes = (IsAuthenticated,)
    throttle_classes = (SendIPThrottle,)

    @document(
        request=s.RequestCodeSerializer, responses={200: s.DispatchResponseSerializer, **_ERRORS}
    )
    def post(self, request: Request) -> Response:
        """Dispatch a code of the named or primary method."""
        data = self.validated(s.RequestCodeSerializer, request)
        return dispatch_response(
            methods.request_code(request.user, data.get("method"), request=request)
        )


class MFAConfigView(MFAView):
    """The configured methods and the confirmation policy."""

    permission_classes = (AllowAny,)

    @document(responses={200: s.ConfigResponseSerializer})
    def get(self, request: Request) -> Response:
        """Describe the MFA configuration."""
        return Response(methods.config_info())


class MFAListActiveUserMethodsView(MFAView):
    """The user's active methods."""

    permission_classes = (IsAuthenticated,)

    @document(responses={200: s.ActiveMethodSerializer(many=True), **_AUTH_ERRORS})
    def get(self, request: Request) -> Response:
        """List name and primary flag of each active method."""
        return Response(methods.list_active_methods(request.user))


class MFAPrimaryMethodChangeView(MFAView):
    """Make another active method the primary one."""

    permission_classes = (IsAuthenticated,)
    field_errors = {
        code: "code" for code in ("code_invalid_or_expired", "invalid_input", "otp_code_missing")
    }

    @document(request=s.ChangePrimaryMethodSerializer, responses={204: None, **_ERRORS})
    def post(self, request: Request) -> Response:
        """Change the primary method (a code of the current primary confirms it)."""
        methods.require_primary_method(request.user, NoPrimaryMethod)  # django-trench's first check
        data = self.validated(s.ChangePrimaryMethodSerializer, request)
        methods.change_primary_method(
            request.user, data["method"], data.get("code"), request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

"""A user's WebAuthn credentials: ``<method>/credentials/`` and ``<method>/credentials/<id>/``."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import serializers as s
from trench_mfa.api.base import MFAView
from trench_mfa.api.schema import document
from trench_mfa.conf import mfa_settings
from trench_mfa.services import webauthn

_ERRORS: dict[int, Any] = {
    400: s.BAD_REQUEST_SCHEMA,
    401: s.DetailResponseSerializer,
    404: s.ErrorResponseSerializer,
    415: s.DetailResponseSerializer,
    429: s.ErrorResponseSerializer,
}


class CredentialListView(MFAView):
    """The user's registered passkeys and security keys."""

    permission_classes = (IsAuthenticated,)

    @document(responses={200: s.CredentialSerializer(many=True), **_ERRORS})
    def get(self, request: Request, method: str) -> Response:
        """Name, dates, transports and backup state of each (no key material)."""
        return Response(webauthn.list_credentials(request.user, method))


class CredentialView(MFAView):
    """Rename or remove one registered passkey or security key."""

    permission_classes = (IsAuthenticated,)
    http_method_names = ["patch", "delete", "options"]

    @document(
        request=s.CredentialRenameSerializer, responses={200: s.CredentialSerializer, **_ERRORS}
    )
    def patch(self, request: Request, method: str, pk: int) -> Response:
        """Give it a new name."""
        data = self.validated(s.CredentialRenameSerializer, request)
        return Response(webauthn.rename_credential(request.user, method, pk, data["name"]))

    @document(request=s.ProtectedActionSerializer, responses={204: None, **_ERRORS})
    def delete(self, request: Request, method: str, pk: int) -> Response:
        """Remove it (a code confirms it, as for deactivation); the last one deactivates."""
        required = mfa_settings.CONFIRM_DISABLE_WITH_CODE
        data = self.validated(s.ProtectedActionSerializer, request, code_required=required)
        webauthn.remove_credential(request.user, method, pk, data.get("code"), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

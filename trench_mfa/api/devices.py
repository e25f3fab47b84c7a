"""Remembered devices over HTTP: the list, revocation, and the device token's delivery.

``GET devices/`` lists the user's devices; ``DELETE devices/<id>/`` revokes
one (404 when it is not theirs), ``DELETE devices/`` all of them. A login
that remembered a device answers its token in the body (``device_token``,
``device_expires_at``) and, unless ``REMEMBER_DEVICE_COOKIE`` is ``None``, in
an ``HttpOnly`` cookie for browser clients.
"""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from trench_mfa.api import serializers as s
from trench_mfa.api.base import MFAView
from trench_mfa.api.schema import document
from trench_mfa.conf import mfa_settings
from trench_mfa.login.steps import LoginStep
from trench_mfa.services import devices

_AUTH_ERRORS: dict[int, Any] = {401: s.DetailResponseSerializer}


def with_device(response: Response, step: LoginStep, *, secure: bool) -> Response:
    """``response`` (tokens) carrying the new device token of ``step``, if it has one."""
    if step.device_token is None or step.device_expires_at is None:
        return response
    assert isinstance(response.data, dict)
    response.data["device_token"] = step.device_token
    response.data["device_expires_at"] = step.device_expires_at.isoformat().replace("+00:00", "Z")
    cookie = mfa_settings.REMEMBER_DEVICE_COOKIE
    if cookie:
        response.set_cookie(
            cookie,
            step.device_token,
            expires=step.device_expires_at,
            secure=bool(mfa_settings.REMEMBER_DEVICE_COOKIE_SECURE) or secure,
            httponly=True,
            samesite="Strict",
        )
    return response


def enrolment_response(token: str) -> Response:
    """Login step 1 of a user who must set up MFA first (``REQUIRE_MFA_FOR``)."""
    return Response({"enrolment_token": token, "methods": list(mfa_settings.methods)})


class DeviceListView(MFAView):
    """The user's remembered devices; ``DELETE`` revokes them all."""

    permission_classes = (IsAuthenticated,)

    @document(responses={200: s.DeviceSerializer(many=True), **_AUTH_ERRORS})
    def get(self, request: Request) -> Response:
        """List the live devices, newest first."""
        return Response(s.DeviceSerializer(devices.list_devices(request.user), many=True).data)

    @document(
        request=None, responses={204: None, **_AUTH_ERRORS}, operation_id="auth_devices_revoke_all"
    )
    def delete(self, request: Request) -> Response:
        """Revoke every device: each must answer a code at its next login."""
        devices.revoke_all(request.user, reason=devices.USER_REQUEST, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceDetailView(MFAView):
    """One remembered device of the user."""

    permission_classes = (IsAuthenticated,)

    @document(
        request=None,
        responses={204: None, 404: s.DetailResponseSerializer, **_AUTH_ERRORS},
        operation_id="auth_device_revoke",
    )
    def delete(self, request: Request, device_id: int) -> Response:
        """Revoke the device; 404 when the user has no device with this id."""
        if not devices.revoke_device(request.user, device_id, request=request):
            raise NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)

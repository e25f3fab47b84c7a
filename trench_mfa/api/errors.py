"""Render trench_mfa errors as ``{"error", "error_code"}`` in its own views."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings

from trench_mfa.exceptions import MFAError, Throttled


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors get the MFA envelope; everything else the project's handler."""
    if isinstance(exc, exceptions.Throttled):
        exc = Throttled(int(exc.wait or 1), detail=_("Too many requests. Please try again later."))
    if isinstance(exc, MFAError):
        return Response(exc.payload(), status=exc.status_code, headers=exc.headers())
    handler = api_settings.EXCEPTION_HANDLER
    return handler(exc, context)  # type: ignore[no-any-return]

"""Render trench_mfa errors as ``{"error", "error_code"}`` in its own views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.settings import api_settings

from trench_mfa.exceptions import MFAError, Throttled


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors get the MFA envelope; everything else the project's handler."""
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None) or 1
        exc = Throttled(int(wait), detail=_("Too many requests. Please try again later."))
    if isinstance(exc, MFAError):
        return Response(exc.payload(), status=exc.status_code, headers=exc.headers())
    handler = cast(Callable[..., Response | None], api_settings.EXCEPTION_HANDLER)
    return handler(exc, context)

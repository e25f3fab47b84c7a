"""Render trench_mfa's errors in its own views, as django-trench 0.3.1 does.

django-trench answers a domain error in one of three shapes, depending on
where it is detected: ``{"error": <message>}`` when a view catches it (we add
``error_code``), a field error ``{"<field>": [<message>]}`` when a serializer
field's validation raised it, or a bare ``[<message>]``. Which one a view
uses is declared on the view (:attr:`~trench_mfa.api.base.MFAView.field_errors`)
or on the error itself (:attr:`~trench_mfa.exceptions.MFAError.field`). In the
two DRF shapes each message is an ``ErrorDetail`` whose ``code`` is the error
code, and the OpenAPI schema says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from trench_mfa.exceptions import DatabaseUnavailable, MFAError, Throttled

logger = logging.getLogger("trench_mfa.api")


def error_body(exc: MFAError, field: str | None) -> Any:
    """The body of ``exc``: the envelope, a field error of ``field`` or a bare list."""
    messages = [ErrorDetail(str(exc.detail), code=exc.error_code)]
    if exc.as_list:
        return messages
    if field:
        return {field: messages}
    return exc.payload()


def _field_of(exc: MFAError, context: dict[str, Any]) -> str | None:
    """The field ``exc`` is reported under, if any.

    A view's mapping applies only when the request carried that field:
    django-trench raised these errors from the field's own validation, which
    does not run for an absent optional field (the same error then comes
    from the view, in the envelope).
    """
    if exc.field or exc.as_list:
        return exc.field
    fields: dict[str, str] = getattr(context.get("view"), "field_errors", {})
    field = fields.get(exc.error_code)
    if field is None:
        return None
    try:
        data = context["request"].data
    except (KeyError, AttributeError, exceptions.APIException):
        return None  # a body that cannot be parsed carried no field
    return field if isinstance(data, dict) and field in data else None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors in django-trench's shape, a lost database connection as 503.

    Everything else goes to the project's ``EXCEPTION_HANDLER``.
    """
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The connection broke (failover, a terminated session, a restart):
        # the transaction is rolled back whole, so a retry is safe. Integrity
        # and programming errors are bugs and stay 500s.
        logger.error("database unavailable during an MFA request", exc_info=exc)
        set_rollback()
        exc = DatabaseUnavailable()
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None) or 1
        exc = Throttled(int(wait), detail=_("Too many requests. Please try again later."))
    if isinstance(exc, MFAError):
        return Response(
            error_body(exc, _field_of(exc, context)), status=exc.status_code, headers=exc.headers()
        )
    handler = cast(Callable[..., Response | None], api_settings.EXCEPTION_HANDLER)
    return handler(exc, context)

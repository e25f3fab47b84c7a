"""The base view of every trench_mfa endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from trench_mfa.api import error_reports
from trench_mfa.api.errors import exception_handler
from trench_mfa.api.parsers import BoundedJSONParser

if TYPE_CHECKING:
    from rest_framework.views import AsView, GenericView


class MFAView(APIView):
    """Renders MFA errors in one envelope and forbids caching of any answer.

    Most answers carry a secret (activation data, backup codes, tokens), so
    every response is sent with ``Cache-Control: no-store``.
    """

    #: Error codes that this endpoint reports as a field error, with the
    #: field: where django-trench raised that error from a serializer field's
    #: validation. Others get the ``{"error", "error_code"}`` envelope.
    field_errors: ClassVar[dict[str, str]] = {}

    @classmethod
    def as_view(cls, **initkwargs: Any) -> AsView[GenericView]:
        """The view, exempt from ``ATOMIC_REQUESTS``.

        Services own their transactions. Under ``ATOMIC_REQUESTS`` an error
        response would roll back what must outlive it: a counted wrong code,
        a back-off, a lockout, an audit event.
        """
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    @method_decorator(sensitive_post_parameters())
    @sensitive_variables()
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """DRF's dispatch; an error report of the request shows no secret, even with ``DEBUG``.

        Every field of the body is a secret or harmless (codes, passwords,
        hardcodes, tokens), so all of ``request.POST`` and every variable of
        the frames below are hidden (see :mod:`trench_mfa.api.error_reports`).
        """
        error_reports.protect(request)
        return super().dispatch(request, *args, **kwargs)

    def get_exception_handler(self) -> Callable[..., Response | None]:
        """Use trench_mfa's error envelope for domain errors."""
        return exception_handler

    def get_parsers(self) -> list[BaseParser]:
        """The project's parsers, with DRF's JSON parser made safe against deep nesting."""
        return [
            BoundedJSONParser() if type(parser) is JSONParser else parser
            for parser in super().get_parsers()
        ]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        """Add ``Cache-Control: no-store`` to every response."""
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    def validated(self, serializer_class: type, request: Request, **options: Any) -> dict[str, Any]:
        """Validate the request body with ``serializer_class(**options)`` (400 on errors)."""
        serializer = serializer_class(data=request.data, **options)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

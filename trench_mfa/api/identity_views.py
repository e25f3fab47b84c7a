"""Identifier verification and hardcode endpoints (``trench_mfa.urls``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
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


class LinkPageRenderer(BaseRenderer):
    """A small HTML page for a person who opens the confirmation link in a browser.

    It shows the answer's text and, while the link is unused, a button that
    ``POST``s to the same URL: only that press confirms the address.
    """

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The page for ``data`` (the JSON answer of the same request)."""
        context = renderer_context or {}
        request = context.get("request")
        data = data if isinstance(data, dict) else {}
        page = render_to_string(
            "trench_mfa/verification_link.html",
            {
                "message": data.get("details") or data.get("error", ""),
                # Only the GET of a valid link offers the button.
                "ask": "confirm" in data,
                "action": request.path if request is not None else "",
            },
        )
        return page.encode(self.charset)


class VerificationLinkView(MFAView):
    """The confirmation link sent by email: ``GET`` describes it, ``POST`` confirms.

    A mail scanner or link preview that opens (``GET``) the link must not
    confirm the address: whoever signed up with someone else's address would
    have it confirmed by that person's mail filter. There is no session
    authentication here, so DRF asks for no CSRF token and the page's plain
    form ``POST`` works; the signed key in the URL is the credential.
    """

    permission_classes = (AllowAny,)
    authentication_classes = ()
    # JSON first: a client that accepts anything (curl, */*) gets JSON; a
    # browser, which asks for text/html by name, gets the page.
    renderer_classes = (JSONRenderer, LinkPageRenderer)

    @document(
        responses={
            200: fs.LinkResponseSerializer,
            400: s.ErrorResponseSerializer,
            # DRF's answer to ?format= naming no renderer of the view.
            404: s.DetailResponseSerializer,
        }
    )
    def get(self, request: Request, key: str) -> Response:
        """Say what the link does; change nothing (400 ``invalid_link`` for a bad key)."""
        identifiers.check_link(key)
        return Response(
            {
                "details": _("This link confirms an email address for an account."),
                "confirm": _("POST this URL to confirm the address."),
            }
        )

    @document(
        request=None,
        responses={
            200: fs.DetailsResponseSerializer,
            400: s.ErrorResponseSerializer,
            404: s.DetailResponseSerializer,
        },
    )
    def post(self, request: Request, key: str) -> Response:
        """Confirm the value the link was sent to, if it is still the user's.

        400 ``invalid_link`` for a bad key, ``identifier_taken`` when another
        account has confirmed the value.
        """
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
        proof = hardcode.ChangeProof(data.get("password"), data.get("code"), data.get("method"))
        hardcode.set_hardcode(request.user, data["hardcode"], proof, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

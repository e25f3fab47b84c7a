"""testproject's URLs plus project views that require ``IsMFAAuthenticated``."""

from __future__ import annotations

from django.urls import path
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from testproject.urls import urlpatterns as project_urlpatterns
from trench_mfa.permissions import IsMFAAuthenticated


class PayoutView(APIView):
    """A project view for MFA-verified users only (default authentication classes)."""

    permission_classes = (IsMFAAuthenticated,)

    def get(self, request: Request) -> Response:
        """Something sensitive."""
        return Response({"user": str(request.user.pk)})


class TokenOnlyView(PayoutView):
    """Misconfigured: authtoken keys carry no claims, so nobody ever gets in."""

    authentication_classes = (TokenAuthentication,)


class CombinedView(PayoutView):
    """Misconfigured too, with the permission inside a combination."""

    authentication_classes = (SessionAuthentication,)
    permission_classes = (IsAuthenticated & IsMFAAuthenticated,)  # type: ignore[assignment]


urlpatterns = [
    *project_urlpatterns,
    path("api/payout/", PayoutView.as_view()),
]

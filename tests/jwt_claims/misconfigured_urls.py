"""A URLconf with views on which ``IsMFAAuthenticated`` can never pass (check W170)."""

from __future__ import annotations

from django.urls import include, path

from tests.jwt_claims.urls import CombinedView, PayoutView, TokenOnlyView

urlpatterns = [
    path("api/payout/", PayoutView.as_view()),
    path("api/token-only/", TokenOnlyView.as_view()),
    path("api/", include([path("combined/", CombinedView.as_view())])),
]

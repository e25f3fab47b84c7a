"""URLs of the demo and test project: the API, its docs, the admin and a landing page."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from testproject import admin_site, views

urlpatterns = [
    path("", views.LandingView.as_view(), name="landing"),
    path("readme/", views.readme, name="readme"),
    path("admin/", admin.site.urls),
    path("mfa-admin/", admin_site.site.urls),
    path("auth/", include("djoser.urls")),
    path("auth/", include("trench_mfa.urls")),
    path("auth/jwt/", include("trench_mfa.urls.jwt")),
    path("auth/token/", include("trench_mfa.urls.authtoken")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

"""django-trench mounted at the same paths as trench_mfa."""

from django.urls import include, path

urlpatterns = [
    path("auth/", include("trench.urls")),
    path("auth/jwt/", include("trench.urls.jwt")),
    path("auth/token/", include("trench.urls.authtoken")),
]

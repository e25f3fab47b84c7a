"""trench_mfa mounted as in its API contract, and the load test's floors under ``floor/``."""

from django.urls import include, path

urlpatterns = [
    path("auth/", include("trench_mfa.urls")),
    path("auth/jwt/", include("trench_mfa.urls.jwt")),
    path("auth/token/", include("trench_mfa.urls.authtoken")),
    path("floor/", include("bench_floor.urls")),
]

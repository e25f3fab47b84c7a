"""Login URLs issuing DRF authtoken keys: ``include("trench_mfa.urls.authtoken")``."""

from __future__ import annotations

from django.urls import path

from trench_mfa.api import authtoken

urlpatterns = [
    path("login/", authtoken.MFAFirstStepAuthTokenView.as_view(), name="generate-code-authtoken"),
    path(
        "login/code/",
        authtoken.MFASecondStepAuthTokenView.as_view(),
        name="generate-token-authtoken",
    ),
    path(
        "login/code/request/",
        authtoken.MFACodeRequestAuthTokenView.as_view(),
        name="request-login-code-authtoken",
    ),
    # Passwordless passkey login (TRENCH_AUTH["PASSKEY_LOGIN"]; 404 while off).
    path(
        "passkey/begin/",
        authtoken.PasskeyBeginAuthTokenView.as_view(),
        name="passkey-begin-authtoken",
    ),
    path("passkey/", authtoken.PasskeyAuthTokenView.as_view(), name="passkey-login-authtoken"),
    path("logout/", authtoken.LogoutView.as_view(), name="logout"),
]

"""Login URLs issuing simplejwt tokens: ``include("trench_mfa.urls.jwt")``."""

from __future__ import annotations

from django.urls import path

from trench_mfa.api import jwt

urlpatterns = [
    path("login/", jwt.MFAFirstStepJWTView.as_view(), name="generate-code-jwt"),
    path("login/code/", jwt.MFASecondStepJWTView.as_view(), name="generate-token-jwt"),
    path(
        "login/code/request/",
        jwt.MFACodeRequestJWTView.as_view(),
        name="request-login-code-jwt",
    ),
    # Passwordless passkey login (TRENCH_AUTH["PASSKEY_LOGIN"]; 404 while off).
    path("passkey/begin/", jwt.PasskeyBeginJWTView.as_view(), name="passkey-begin-jwt"),
    path("passkey/", jwt.PasskeyJWTView.as_view(), name="passkey-login-jwt"),
]

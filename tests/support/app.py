"""Fixtures of the authenticator app tests: settings, method rows, URI parsing."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from rest_framework.test import APIClient

from tests.conftest import start_activation
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.state.secrets_at_rest import encrypt_secret

#: RFC 6238 seeds (the erratum: one as long as each HMAC output), base32.
SEEDS = {
    "SHA1": base64.b32encode(b"12345678901234567890").decode(),
    "SHA256": base64.b32encode(b"12345678901234567890123456789012").decode(),
    "SHA512": base64.b32encode(b"1234567890" * 6 + b"1234").decode(),
}


@pytest.fixture
def app_options(settings: Any) -> Callable[..., dict[str, Any]]:
    """Set options of the ``app`` method: ``app_options(DIGITS=8, ...)``.

    Builds a new ``TRENCH_AUTH`` dict; the project's dict is never mutated.
    """
    base = settings.TRENCH_AUTH

    def configure(**options: Any) -> dict[str, Any]:
        methods = dict(base["MFA_METHODS"])
        methods["app"] = {**methods["app"], **options}
        settings.TRENCH_AUTH = {**base, "MFA_METHODS": methods}
        return settings.TRENCH_AUTH  # type: ignore[no-any-return]

    return configure


@pytest.fixture
def app_method(user: Any) -> Callable[..., MFAMethod]:
    """An ``app`` method row of ``user`` with a given base32 seed (active by default)."""

    def make(seed: str, *, active: bool = True) -> MFAMethod:
        MFAMethod.objects.filter(user=user, name="app").delete()
        return MFAMethod.objects.create(
            user=user,
            name="app",
            secret=encrypt_secret(seed),
            is_active=active,
            is_primary=active,
        )

    return make


def handler_for(method: MFAMethod, purpose: CodePurpose = CodePurpose.LOGIN) -> Any:
    """The configured dispatcher of ``method`` (fresh row from the database)."""
    return get_mfa_handler(MFAMethod.objects.get(pk=method.pk), purpose=purpose)


def parse_uri(uri: str) -> tuple[str, str, dict[str, str]]:
    """(issuer from the label, account, query parameters) of an otpauth URI."""
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp", uri
    raw_issuer, sep, raw_account = parts.path.lstrip("/").partition(":")
    assert sep == ":", uri
    query = {k: v[0] for k, v in parse_qs(parts.query, strict_parsing=True).items()}
    return unquote(raw_issuer), unquote(raw_account), query


def totp_from_uri(uri: str) -> pyotp.TOTP:
    """A pyotp TOTP for the seed and parameters of ``uri`` (what an app would use)."""
    _, _, query = parse_uri(uri)
    digest = {"SHA1": "sha1", "SHA256": "sha256", "SHA512": "sha512"}[query["algorithm"]]
    return pyotp.TOTP(
        query["secret"],
        digits=int(query["digits"]),
        interval=int(query["period"]),
        digest=getattr(hashlib, digest),
    )


def activate_app(client: APIClient, code: str | None = None) -> dict[str, Any]:
    """``POST app/activate/``; returns the JSON body (asserts 200).

    ``code``: a code of the primary method when the user has MFA already
    (see :func:`tests.conftest.start_activation`).
    """
    response = start_activation(client, "app", code)
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def activate_and_confirm_app(client: APIClient) -> pyotp.TOTP:
    """Activate and confirm the app method at the current (frozen) time; the pyotp TOTP."""
    totp = totp_from_uri(activate_app(client)["details"])
    assert client.post("/auth/app/activate/confirm/", {"code": totp.now()}).status_code == 200
    return totp

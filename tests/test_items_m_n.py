"""SECURITY-CHECKLIST sections M (logging) and N (API hygiene).

Items 79 and 82 (input allow-lists, no input gives a 500) are covered by
``tests/hardening`` (section 3) and ``tests/fuzz``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.conftest import assert_field_error, credentials, last_code
from tests.lockout.conftest import answer, login

# Fixtures shared with tests/lockout.
from tests.lockout.conftest import email_user as email_user
from trench_mfa import audit, signals
from trench_mfa.models import MFAMethod

pytestmark = pytest.mark.django_db


def test_item_78_every_verification_attempt_and_lockout_is_logged(
    email_user: Any,
    anon_client: APIClient,
    trench_auth: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=2)
    user, _ = email_user
    with caplog.at_level(logging.INFO, logger="trench_mfa.audit"):
        token = login(anon_client, user)
        code = last_code()
        answer(anon_client, token, "000000")
        MFAMethod.objects.filter(user=user).update(failure_count=0)
        assert answer(anon_client, token, code).status_code == 200
        token = login(anon_client, user)
        answer(anon_client, token, "000000")
        answer(anon_client, token, "000001")  # locks
        answer(anon_client, token, "000002")  # refused
    lines = [r.getMessage() for r in caplog.records if r.name == "trench_mfa.audit"]
    prefix = f"user {user.pk}, method 'email', purpose login, outcome"
    assert lines == [
        f"MFA code_sent: {prefix} success, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} invalid_code, ip 127.0.0.1",
        f"MFA code_verified: {prefix} success, ip 127.0.0.1",
        f"MFA code_sent: {prefix} success, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} invalid_code, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} invalid_code, ip 127.0.0.1",
        f"MFA locked_out: {prefix} locked, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} locked, ip 127.0.0.1",
    ]
    assert code not in caplog.text
    failed = [r for r in caplog.records if "verification_failed" in r.getMessage()]
    assert all(r.levelno == logging.WARNING for r in failed)


def test_item_78_user_supplied_values_cannot_forge_log_lines(
    user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="trench_mfa.audit"):
        audit.send(signals.code_verified, "tests", user=user, method="x\r\nMFA code_verified: u 1")
    [record] = [r for r in caplog.records if r.name == "trench_mfa.audit"]
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def test_item_80_secrets_travel_in_bodies_never_in_urls(
    email_user: Any, anon_client: APIClient
) -> None:
    routes = []
    for module in ("trench_mfa.urls", "trench_mfa.urls.jwt", "trench_mfa.urls.authtoken"):
        routes += _routes(get_resolver(module).url_patterns)
    converters = {part.split(">")[0] for route in routes for part in route.split("<")[1:]}
    assert converters <= {"str:method", "str:field", "str:key"}, converters
    # A code in the query string is not read: the body still lacks it.
    user, _ = email_user
    token = login(anon_client, user)
    response = anon_client.post(
        f"/auth/jwt/login/code/?code={last_code()}", {"ephemeral_token": token}
    )
    assert_field_error(response, "code")


def test_item_81_unknown_and_read_only_fields_are_ignored(
    user: Any, api_client: APIClient, user_factory: Callable[..., Any]
) -> None:
    other = user_factory(username="other")
    extra = {"user": other.pk, "is_active": True, "is_primary": True, "secret": "JBSWY3DPEHPK3PXP"}
    assert api_client.post("/auth/app/activate/", extra).status_code == 200
    method = MFAMethod.objects.get(name="app")
    assert method.user_id == user.pk and not method.is_active and not method.is_primary
    assert "JBSWY3DPEHPK3PXP" not in method.secret
    assert not MFAMethod.objects.filter(user=other).exists()
    response = api_client.post("/auth/email/activate/", {"backup_codes": ["a"], **extra})
    assert response.status_code == 200
    assert not MFAMethod.objects.get(user=user, name="email").is_active


def test_item_14_no_store_on_every_response_that_carries_a_secret(
    user: Any, api_client: APIClient, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(RESEND_COOLDOWN=0)
    responses = {"activate (app: seed, QR)": api_client.post("/auth/app/activate/")}
    api_client.post("/auth/email/activate/")
    responses["confirm (backup codes)"] = api_client.post(
        "/auth/email/activate/confirm/", {"code": last_code()}
    )
    api_client.post("/auth/code/request/")
    responses["regenerate (backup codes)"] = api_client.post(
        "/auth/email/codes/regenerate/", {"code": last_code()}
    )
    for base in ("/auth/jwt/", "/auth/token/"):
        step1 = anon_client.post(f"{base}login/", credentials(user))
        responses[f"{base} step 1 (ephemeral token)"] = step1
        token = step1.json()["ephemeral_token"]
        responses[f"{base} resend"] = anon_client.post(
            f"{base}login/code/request/", {"ephemeral_token": token}
        )
        responses[f"{base} step 2 (tokens)"] = anon_client.post(
            f"{base}login/code/", {"ephemeral_token": token, "code": last_code()}
        )
    responses["error"] = anon_client.post(
        "/auth/jwt/login/code/", {"ephemeral_token": "x", "code": "123456"}
    )
    for name, response in responses.items():
        assert response.status_code < 500, name
        assert "no-store" in response["Cache-Control"], name

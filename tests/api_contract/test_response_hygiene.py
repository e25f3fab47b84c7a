"""Secrets travel in bodies, never in URLs or caches; unknown and read-only fields are ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.conftest import assert_field_error, credentials, last_code
from tests.support.throttling import login
from trench_mfa.models import MFAMethod

pytestmark = pytest.mark.django_db


def _routes(patterns: list[Any], prefix: str = "") -> list[str]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append(prefix + str(entry.pattern))
    return found


def test_secrets_travel_in_bodies_never_in_urls(email_user: Any, anon_client: APIClient) -> None:
    routes = []
    for module in ("trench_mfa.urls", "trench_mfa.urls.jwt", "trench_mfa.urls.authtoken"):
        routes += _routes(get_resolver(module).url_patterns)
    converters = {part.split(">")[0] for route in routes for part in route.split("<")[1:]}
    # A device id names a row of the user's own; the device token never travels in a URL.
    assert converters <= {"str:method", "str:field", "str:key", "int:device_id"}, converters
    # A code in the query string is not read: the body still lacks it.
    user, _ = email_user
    token = login(anon_client, user)
    response = anon_client.post(
        f"/auth/jwt/login/code/?code={last_code()}", {"ephemeral_token": token}
    )
    assert_field_error(response, "code")


def test_unknown_and_read_only_fields_are_ignored(
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


def test_no_store_on_every_response_that_carries_a_secret(
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

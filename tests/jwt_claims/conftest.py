"""Helpers of the JWT-claims tests: a fixed clock, token decoding, logins.

The login-flow fixtures (``flows_config``, ``verified_user``) and the
YubiKey fixtures (``yubicloud``, ``yubi_settings``) come from
``tests/support`` (loaded for every folder by ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from tests.conftest import credentials

#: The frozen time of every test here, and its Unix time.
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW_TS = int(NOW.timestamp())

JWT_LOGIN = "/auth/jwt/login/"
JWT_CODE = "/auth/jwt/login/code/"


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> Iterator[Any]:
    """The clock stands at :data:`NOW` until a test moves it."""
    time_machine.move_to(NOW, tick=False)
    yield time_machine


def claims(body: dict[str, Any]) -> dict[str, Any]:
    """The payload of the access token in ``body``, after checking it against the refresh token.

    Both tokens are verified (signature, expiry, type) by simplejwt; the
    trench_mfa claims must be the same in both.
    """
    access = dict(AccessToken(body["access"]).payload)
    refresh = dict(RefreshToken(body["refresh"]).payload)
    for name in ("amr", "mfa_at"):
        assert access.get(name) == refresh.get(name), (access, refresh)
    return access


def tokens_of(response: Any) -> dict[str, Any]:
    """The JWT body of a final login answer (asserts 200 and its shape)."""
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"refresh", "access"}, body
    return body


def login_step_one(user: Any, **extra: Any) -> dict[str, Any]:
    """django-trench's step 1 (JWT flavour) with the right password."""
    response = APIClient().post(JWT_LOGIN, {**credentials(user), **extra})
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def answer(token: str, code: str, **extra: Any) -> Any:
    """Login step 2 (JWT flavour)."""
    return APIClient().post(JWT_CODE, {"ephemeral_token": token, "code": code, **extra})


def refresh(refresh_token: str) -> dict[str, Any]:
    """POST to simplejwt's own TokenRefreshView (testproject does not mount it)."""
    request = APIRequestFactory().post("/refresh/", {"refresh": refresh_token}, format="json")
    response = TokenRefreshView.as_view()(request)
    assert response.status_code == 200, response.data
    return dict(response.data)

"""Shared fixtures: users, API clients, mail helpers.

Tests run against testproject's settings. Password hashing uses MD5 for
speed unless a test asks for the real hashers (``real_hashers``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_hashers(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def real_hashers(settings: Any) -> None:
    """Django's default password hashers (PBKDF2 first)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


@pytest.fixture
def user_factory(db: None) -> Callable[..., Any]:
    """Create users: ``user_factory(username="x", email=..., phone_number=...)``."""
    counter = iter(range(1, 10**6))

    def make(**fields: Any) -> Any:
        n = next(counter)
        fields.setdefault("username", f"user{n}")
        fields.setdefault("email", f"user{n}@example.com")
        password = fields.pop("password", PASSWORD)
        return get_user_model().objects.create_user(password=password, **fields)

    return make


@pytest.fixture
def user(user_factory: Callable[..., Any]) -> Any:
    """A plain active user without MFA."""
    return user_factory(username="alice", email="alice@example.com", phone_number="+48600100200")


@pytest.fixture
def anon_client() -> APIClient:
    """An unauthenticated API client."""
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[Any], APIClient]:
    """An API client authenticated as the given user (force_authenticate)."""

    def make(u: Any) -> APIClient:
        c = APIClient()
        c.force_authenticate(u)
        return c

    return make


@pytest.fixture
def api_client(user: Any, client_for: Callable[[Any], APIClient]) -> APIClient:
    """An API client authenticated as ``user``."""
    return client_for(user)


def last_code(outbox: list[Any] | None = None) -> str:
    """The 6-digit code in the last email sent."""
    messages = outbox if outbox is not None else mail.outbox
    match = re.search(r"\b([0-9]{6})\b", messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


@pytest.fixture
def email_mfa_user(user: Any, api_client: APIClient) -> Iterator[tuple[Any, list[str]]]:
    """``user`` with the email method active (primary); yields (user, backup codes)."""
    assert api_client.post("/auth/email/activate/").status_code == 200
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200, response.content
    mail.outbox.clear()
    yield user, response.json()["backup_codes"]

"""Fixtures of the schema fuzzing: a user with MFA whose token authenticates each case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from rest_framework.authtoken.models import Token

from tests.conftest import use_mail
from trench_mfa.models import MFAMethod
from trench_mfa.state import backup_codes


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Keep the test's database connection open across WSGI requests.

    The WSGI handler closes "old" connections when a request starts and
    ends; inside a test that would close the connection holding the test's
    transaction (PostgreSQL). Django's test client does the same as this.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def mfa_user(user_factory: Callable[..., Any], settings: Any) -> Any:
    """A user with the email method active (primary) and backup codes."""
    # Every generated case sends an email: keep them in memory.
    use_mail(settings, "django.core.mail.backends.locmem.EmailBackend")
    user = user_factory(username="fuzzer", email="fuzzer@example.com")
    MFAMethod.objects.create(user=user, name="email", is_active=True, is_primary=True)
    backup_codes.replace_backup_codes(user.pk)
    return user


@pytest.fixture
def auth_headers(mfa_user: Any) -> Callable[[], dict[str, str]]:
    """Headers for one case: a live authtoken of the user (logout deletes it).

    The login throttle's cache is cleared for every case, so the fuzzer
    reaches the views rather than the throttle.
    """

    def make() -> dict[str, str]:
        cache.clear()
        token, _ = Token.objects.get_or_create(user=mfa_user)
        return {"Authorization": f"Token {token.key}"}

    return make

"""A cache that is down makes the login throttle fail closed."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import assert_error, login_body
from tests.support.throttling import JWT

pytestmark = pytest.mark.django_db


def test_a_cache_that_is_down_fails_closed(
    user: Any, anon_client: APIClient, settings: Any
) -> None:
    settings.CACHES = {"default": {"BACKEND": "tests.support.broken_cache.BrokenCache"}}
    response = anon_client.post(JWT.login, login_body(user.get_username()))
    assert_error(response, 429, "throttled")

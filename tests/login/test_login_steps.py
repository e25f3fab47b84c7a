"""What each login step answers: a challenge only when MFA is on, one generic error
at one hash's cost, its own rate limit, fresh tokens, and only the named method checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import Flavour, assert_error, credentials, last_code, login_body
from tests.support.hashers import CountingHasher
from tests.support.throttling import JWT, answer, login
from trench_mfa.models import MFAMethod

pytestmark = pytest.mark.django_db


def test_step_one_returns_only_a_challenge_when_mfa_is_on(
    email_user: Any, anon_client: APIClient, user_factory: Callable[..., Any], flavour: Flavour
) -> None:
    user, _ = email_user
    body = anon_client.post(flavour.login, credentials(user)).json()
    assert set(body) == {"ephemeral_token", "method", "other_methods", "factors_remaining"}
    assert body["method"] == "email"
    plain = user_factory(username="nomfa")
    assert set(anon_client.post(flavour.login, credentials(plain)).json()) == flavour.token_keys


def test_step_one_errors_are_generic_and_cost_one_hash_each(
    user_factory: Callable[..., Any], anon_client: APIClient, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["tests.support.hashers.CountingHasher"]
    # USER_ACTIVE_FIELD other than is_active: checked after the password.
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "USER_ACTIVE_FIELD": "is_staff"}
    user_factory(username="known", is_staff=True)
    user_factory(username="sleeper", is_active=False, is_staff=True)
    user_factory(username="benched", is_staff=False)
    cases = {
        "unknown user": login_body("nobody", "whatever"),
        "wrong password": login_body("known", "whatever"),
        "inactive user": login_body("sleeper"),  # the right password
        "USER_ACTIVE_FIELD false": login_body("benched"),  # the right password
    }
    seen = set()
    for name, body in cases.items():
        CountingHasher.calls.clear()
        response = anon_client.post(JWT.login, body)
        seen.add((response.status_code, response.content))
        assert CountingHasher.calls == ["encode"], name  # exactly one hash
    expected = b'{"error":"Unable to login with provided credentials.",'
    assert seen == {(400, expected + b'"error_code":"unauthenticated"}')}


def test_step_one_has_its_own_rate_limit(anon_client: APIClient) -> None:
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_THROTTLE_RATES["trench_mfa_login"] == "10/min"
    for n in range(10):
        anon_client.post(JWT.login, login_body(f"guess{n}", "x"))
    assert_error(anon_client.post(JWT.login, login_body("guess", "x")), 429, "throttled")


def test_step_two_issues_fresh_tokens(
    email_user: Any, anon_client: APIClient, flavour: Flavour
) -> None:
    user, _ = email_user
    token = anon_client.post(flavour.login, credentials(user)).json()["ephemeral_token"]
    body = anon_client.post(flavour.code, {"ephemeral_token": token, "code": last_code()}).json()
    assert set(body) == flavour.token_keys and token not in body.values()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=flavour.authorization(body))
    assert client.get("/auth/mfa/user-active-methods/").status_code == 200


def test_step_two_checks_only_the_named_method(two_methods: Any, anon_client: APIClient) -> None:
    user, backup = two_methods
    token = login(anon_client, user)  # the primary (email) was challenged
    code = last_code()
    assert answer(anon_client, token, code, method="email2").status_code == 401
    assert MFAMethod.objects.get(user=user, name="email").failure_count == 0
    assert answer(anon_client, token, code).status_code == 200  # default: the primary
    # Backup codes: the same path, in place of the named (or primary) method.
    assert answer(anon_client, login(anon_client, user), backup[0]).status_code == 200

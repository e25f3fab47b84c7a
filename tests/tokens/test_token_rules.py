"""The ephemeral token through a whole login: its lifetime, step two only,
single use, death on a password change, and one 401 for every tampered form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import MANAGEMENT_ENDPOINTS, assert_error, credentials, last_code
from tests.support.throttling import JWT, answer, login, shift
from trench_mfa.models import LoginChallenge

pytestmark = pytest.mark.django_db


def test_the_ephemeral_token_lives_ten_minutes_at_most(
    email_user: Any,
    anon_client: APIClient,
    clock: time_machine.Coordinates,
    trench_auth: Callable[..., Any],
) -> None:
    from trench_mfa.checks.settings import check_settings
    from trench_mfa.conf import mfa_settings

    assert mfa_settings.EPHEMERAL_TOKEN_VALIDITY == 600
    user, _ = email_user
    for age, status in ((599, 200), (601, 401)):
        token = login(anon_client, user)
        shift(clock, 590)  # a fresh code (codes live 300 s) for the old token
        assert anon_client.post(JWT.resend, {"ephemeral_token": token}).status_code == 200
        shift(clock, age - 590)
        assert answer(anon_client, token, last_code()).status_code == status
        shift(clock, 61)
    trench_auth(EPHEMERAL_TOKEN_VALIDITY=901)  # the ceiling is 900 s
    assert "trench_mfa.E006" in [m.id for m in check_settings()]


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_the_ephemeral_token_is_for_step_two_only(
    email_user: Any, anon_client: APIClient, scheme: str, user_factory: Callable[..., Any]
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    for method, path in MANAGEMENT_ENDPOINTS:
        assert getattr(intruder, method)(path).status_code == 401, path
    # A real access token is no ephemeral token.
    plain = user_factory(username="nomfa")
    tokens = anon_client.post(JWT.login, credentials(plain)).json()
    assert_error(answer(anon_client, tokens["access"], "123456"), 401, "invalid_token")


@pytest.mark.usefixtures("no_resend_cooldown")
def test_the_token_is_single_use_and_dies_with_a_password_change(
    user: Any, email_challenge: tuple[str, str], anon_client: APIClient
) -> None:
    token, code = email_challenge
    assert answer(anon_client, token, code).status_code == 200
    assert_error(answer(anon_client, token, code), 401, "invalid_token")  # replay
    token = login(anon_client, user)
    user.set_password("another-password-2026")
    user.save()
    assert_error(answer(anon_client, token, last_code()), 401, "invalid_token")  # password


def test_a_tampered_token_is_the_same_401_and_counts_nothing(
    email_challenge: tuple[str, str], anon_client: APIClient
) -> None:
    token, code = email_challenge
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_id = str(int(token.split(".")[0]) + 1) + token[token.index(".") :]
    bodies = {
        answer(anon_client, candidate, code).content
        for candidate in (flipped, token[:-5], other_id, "", "x" * 10_000)
        if candidate
    }
    assert bodies == {b'{"error":"Invalid or expired token.","error_code":"invalid_token"}'}
    assert LoginChallenge.objects.get().failed_attempts == 0
    assert answer(anon_client, token, code).status_code == 200

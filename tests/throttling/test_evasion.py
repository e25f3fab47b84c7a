"""Ways around the account's counts that do not work: new IPs, new tokens, other methods."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import assert_error, last_code
from tests.support.throttling import answer, login
from trench_mfa.models import MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("one_proxy", "default_backoff")
def test_rotating_x_forwarded_for_does_not_reset_the_account_counts(
    email_login_token: str, anon_client: APIClient
) -> None:
    token = email_login_token
    answer(anon_client, token, "000000", HTTP_X_FORWARDED_FOR="198.51.100.1")
    response = answer(anon_client, token, last_code(), HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert_error(response, 429, "throttled")


@pytest.mark.usefixtures("default_backoff")
def test_new_tokens_do_not_reset_the_account_counts(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    answer(anon_client, login(anon_client, user), "000000")
    assert_error(answer(anon_client, login(anon_client, user), last_code()), 429, "throttled")


def test_mixing_methods_stays_under_the_account_threshold(
    two_methods: Any, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=4)
    user, backup = two_methods
    token = login(anon_client, user)
    for method, code in [("email", "000000"), ("email2", "000000"), ("email", "0" * 12)]:
        assert answer(anon_client, token, code, method=method).status_code == 401
    token = login(anon_client, user)
    assert answer(anon_client, token, "000000", method="email2").status_code == 401  # 4th
    assert_error(answer(anon_client, token, backup[0], method="email"), 429, "locked")


def test_inside_the_lock_a_right_code_fails_with_retry_after(
    email_user: Any, anon_client: APIClient
) -> None:
    user, _ = email_user
    MFAMethod.objects.filter(user=user).update(locked_until=timezone.now() + timedelta(seconds=300))
    token = login(anon_client, user)
    response = answer(anon_client, token, last_code())
    assert_error(response, 429, "locked")
    assert 299 <= int(response["Retry-After"]) <= 300
    assert OneTimeCode.objects.filter(consumed_at__isnull=True).count() == 1

"""Parallel wrong codes against one user (PostgreSQL only, real threads).

The check, the evaluation and the recording run under the user's and the
method's row locks, so no failure is lost, the back-off lets exactly one
evaluation through, and the lockout triggers exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import activate, credentials
from tests.support.races import LOGIN_RACE_MARKS, race_step_two
from trench_mfa.models import EventType, MFAEvent, MFAMethod

pytestmark = LOGIN_RACE_MARKS


@pytest.fixture
def mfa_user(user: Any, api_client: APIClient) -> Any:
    """``user`` with the email method active."""
    activate(api_client, "email")
    return user


def _tokens(user: Any, n: int) -> list[str]:
    client = APIClient()
    tokens = []
    for _ in range(n):
        response = client.post("/auth/jwt/login/", credentials(user))
        assert response.status_code == 200, response.content
        tokens.append(response.json()["ephemeral_token"])
    return tokens


def test_parallel_wrong_codes_are_all_counted(
    mfa_user: Any, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=100)  # back-off off: the suite default
    statuses = race_step_two(_tokens(mfa_user, 30), "000000")
    assert statuses == [401] * 30
    assert MFAMethod.objects.get(user=mfa_user).failure_count == 30


@pytest.mark.usefixtures("default_backoff")
def test_under_the_back_off_one_of_many_parallel_codes_is_evaluated(mfa_user: Any) -> None:
    statuses = race_step_two(_tokens(mfa_user, 20), "000000")
    assert sorted(statuses) == [401] + [429] * 19
    assert MFAMethod.objects.get(user=mfa_user).failure_count == 1


def test_parallel_failures_lock_exactly_once_at_the_threshold(
    mfa_user: Any, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=10)
    statuses = race_step_two(_tokens(mfa_user, 25), "000000")
    assert sorted(statuses) == [401] * 10 + [429] * 15
    row = MFAMethod.objects.get(user=mfa_user)
    assert row.failure_count == 10 and row.locked_until is not None
    assert MFAEvent.objects.filter(event=EventType.LOCKED_OUT).count() == 1

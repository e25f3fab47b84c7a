"""20 concurrent login step-2 requests with the same TOTP code (PostgreSQL only).

SQLite serialises writers and would hide a lost update, so this runs only
when ``TEST_DATABASE_URL`` points at PostgreSQL; real threads, each with its
own database connection, send the requests at the same moment.
"""

from __future__ import annotations

from typing import Any

import pyotp
import time_machine
from rest_framework.test import APIClient

from tests.conftest import credentials
from tests.support.app import activate_app, totp_from_uri
from tests.support.races import LOGIN_RACE_MARKS, race_step_two
from trench_mfa.models import MFAMethod

pytestmark = LOGIN_RACE_MARKS

THREADS = 20
T0 = 1_700_000_010


def _activated(user: Any, client: APIClient) -> pyotp.TOTP:
    with time_machine.travel(T0, tick=False):
        totp: pyotp.TOTP = totp_from_uri(activate_app(client)["details"])
        confirm = client.post("/auth/app/activate/confirm/", {"code": totp.now()})
        assert confirm.status_code == 200
    return totp


def _login_step_one(user: Any) -> str:
    response = APIClient().post("/auth/jwt/login/", credentials(user))
    assert response.status_code == 200, response.content
    return str(response.json()["ephemeral_token"])


def test_same_code_same_token_in_parallel_succeeds_exactly_once(
    user: Any, api_client: APIClient
) -> None:
    totp = _activated(user, api_client)
    with time_machine.travel(T0 + 30, tick=False):
        token = _login_step_one(user)
        statuses = race_step_two([token] * THREADS, totp.now())
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401}
    assert MFAMethod.objects.get(user=user, name="app").last_used_step == (T0 + 30) // 30


def test_same_code_on_separate_logins_in_parallel_succeeds_exactly_once(
    user: Any, api_client: APIClient
) -> None:
    # One ephemeral token per thread: only the TOTP replay guard (the
    # conditional UPDATE of last_used_step) can stop a second success.
    totp = _activated(user, api_client)
    with time_machine.travel(T0 + 30, tick=False):
        tokens = [_login_step_one(user) for _ in range(THREADS)]
        statuses = race_step_two(tokens, totp.now())
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401}
    assert MFAMethod.objects.get(user=user, name="app").last_used_step == (T0 + 30) // 30

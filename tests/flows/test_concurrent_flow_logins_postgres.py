"""Flow logins under concurrency, on PostgreSQL (real threads and connections).

Skipped on SQLite, whose single writer would serialise the requests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, last_code
from tests.support.flows import sms_code
from tests.support.races import post_status as post
from tests.support.races import race
from trench_mfa.models import LoginChallenge, MFAMethod, OneTimeCode
from trench_mfa.services import identifiers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

THREADS = 12


def test_parallel_first_passwordless_logins_make_one_channel_row(
    flows_config: Callable[..., Any], user: Any, settings: Any
) -> None:
    # More requests than the login throttle's 10 a minute let through.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    flows_config(flows=[("email", "passcode")])
    identifiers.mark_confirmed(user, "email")
    statuses = race([post("/auth/token/login/", {"email": "alice@example.com"})] * THREADS)
    assert Counter(statuses) == {200: THREADS}
    assert MFAMethod.objects.filter(user=user, name="email").count() == 1
    # The first request sent a code; the others, inside the resend cooldown,
    # each took it over for their own challenge: one code, one email.
    assert OneTimeCode.objects.filter(consumed_at__isnull=True).count() == 1
    assert len(mail.outbox) == 1


def test_parallel_answers_to_one_factor_advance_once(
    flows_config: Callable[..., Any], user: Any, client_for: Callable[[Any], APIClient]
) -> None:
    flows_config(flows=[("email", "password", "passcode", "sms")])
    identifiers.mark_confirmed(user, "email")
    identifiers.mark_confirmed(user, "phone_number")
    client = client_for(user)
    assert client.post("/auth/sms/activate/").status_code == 200
    assert client.post("/auth/sms/activate/confirm/", {"code": sms_code()}).status_code == 200
    body = (
        APIClient()
        .post("/auth/token/login/", {"email": "alice@example.com", "password": PASSWORD})
        .json()
    )
    payload = {"ephemeral_token": body["ephemeral_token"], "code": last_code()}
    statuses = race([post("/auth/token/login/code/", payload)] * THREADS)
    assert Counter(statuses) == {200: 1, 401: THREADS - 1}
    challenge = LoginChallenge.objects.get()
    assert challenge.done == ["email"] and challenge.method == "sms"
    assert challenge.used_at is None
    assert len(mail.outbox) == 1

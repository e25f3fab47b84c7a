"""The resend cooldown (RESEND_COOLDOWN, 60 s) between two sends of one method and purpose.

The SMS method's cooldown (the outbox method, Retry-After counting down, a
used code ending it) is in ``tests/sms/test_cooldown_and_number_cap.py``;
in async mode in ``tests/dispatch/test_celery_eager.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.support.throttling import JWT, shift

pytestmark = pytest.mark.django_db


def test_a_resend_inside_the_cooldown_is_429_and_sends_are_capped(
    email_login_token: str, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    token = email_login_token
    shift(clock, 59)
    response = anon_client.post(JWT.resend, {"ephemeral_token": token})
    assert_error(response, 429, "throttled")
    assert response["Retry-After"] == "1" and len(mail.outbox) == 1
    shift(clock, 2)
    assert anon_client.post(JWT.resend, {"ephemeral_token": token}).status_code == 200
    assert len(mail.outbox) == 2
    # At most 5 sends in 10 minutes (tests/throttling/test_send_limit.py).
    from trench_mfa.conf import mfa_settings

    assert (mfa_settings.SEND_LIMIT, mfa_settings.SEND_LIMIT_WINDOW) == (5, 600)


def test_the_cooldown_refuses_at_59_seconds_and_sends_at_61(
    email_user: Any, api_client: APIClient, clock: time_machine.Coordinates
) -> None:
    assert api_client.post("/auth/code/request/").status_code == 200
    shift(clock, 59)
    assert api_client.post("/auth/code/request/").status_code == 429
    shift(clock, 2)
    assert api_client.post("/auth/code/request/").status_code == 200

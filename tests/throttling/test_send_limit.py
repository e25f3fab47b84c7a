"""At most SEND_LIMIT codes of one method and purpose per SEND_LIMIT_WINDOW.

The cooldown (RESEND_COOLDOWN, 60 s) spaces sends out; this cap bounds how
many a client gets in ten minutes (5 by default), whatever it does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import assert_error, credentials, last_code, use_mail
from tests.support.smtp import use_smtp_that_is_down
from tests.support.throttling import answer, login, shift
from trench_mfa.models import OneTimeCode

pytestmark = pytest.mark.django_db


def test_five_sends_per_ten_minutes_then_429_without_sending(
    email_user: Any, api_client: APIClient, clock: time_machine.Coordinates
) -> None:
    for _ in range(5):
        assert api_client.post("/auth/code/request/").status_code == 200
        shift(clock, 61)  # past the cooldown
    assert len(mail.outbox) == 5
    response = api_client.post("/auth/code/request/")
    assert_error(response, 429, "throttled")
    # The first send left the window 600 s after it was made: 600 - 5 * 61 s.
    assert response.json()["retry_after"] == 600 - 5 * 61
    assert len(mail.outbox) == 5  # the gateway was not called
    shift(clock, 600 - 5 * 61)
    assert api_client.post("/auth/code/request/").status_code == 200


def test_sends_that_failed_do_not_use_up_the_cap(
    email_user: Any, api_client: APIClient, anon_client: APIClient, settings: Any
) -> None:
    user, _ = email_user
    # The mail server is down: more failed sends than the cap allows.
    use_smtp_that_is_down(settings)
    for _ in range(6):
        assert_error(api_client.post("/auth/code/request/"), 503, "dispatch_failed")
        assert_error(
            anon_client.post("/auth/jwt/login/", credentials(user)), 503, "dispatch_failed"
        )
    # Withdrawn: nothing to use, nothing counted.
    assert not OneTimeCode.objects.filter(purpose__in=["action", "login"]).exists()
    use_mail(settings, "django.core.mail.backends.locmem.EmailBackend")
    assert api_client.post("/auth/code/request/").status_code == 200
    token = login(anon_client, user)
    assert answer(anon_client, token, last_code()).status_code == 200
    assert len(mail.outbox) == 2


@pytest.mark.usefixtures("no_resend_cooldown")
def test_the_cap_is_per_purpose(
    email_user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    user, _ = email_user
    for _ in range(5):
        assert api_client.post("/auth/code/request/").status_code == 200
    assert api_client.post("/auth/code/request/").status_code == 429
    token = login(anon_client, user)  # a login code is another purpose
    assert answer(anon_client, token, last_code()).status_code == 200


def test_resending_during_one_login_is_capped_too(
    email_user: Any,
    anon_client: APIClient,
    clock: time_machine.Coordinates,
) -> None:
    user, _ = email_user
    token = login(anon_client, user)  # send 1
    statuses = []
    for _ in range(6):
        shift(clock, 61)
        response = anon_client.post("/auth/jwt/login/code/request/", {"ephemeral_token": token})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert len(mail.outbox) == 5


def test_the_cap_can_be_turned_off(
    email_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(RESEND_COOLDOWN=0, SEND_LIMIT=None)
    for _ in range(8):
        assert api_client.post("/auth/code/request/").status_code == 200

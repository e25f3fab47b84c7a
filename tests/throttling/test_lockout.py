"""The account lockout: LOCKOUT_THRESHOLD consecutive failures over all methods.

These tests turn the back-off off (factor 0, the suite default) so that the
lockout alone decides; ``test_backoff.py`` covers the back-off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, assert_error, last_code
from tests.support.throttling import answer, challenge, counters, login, shift
from trench_mfa import signals
from trench_mfa.models import EventType, MFAEvent, MFAMethod

pytestmark = pytest.mark.django_db

IPS = ("198.51.100.10", "198.51.100.11", "198.51.100.12", "198.51.100.13")


@pytest.mark.usefixtures("one_proxy")
def test_lock_at_the_threshold_across_tokens_and_ips(
    email_user: Any,
    anon_client: APIClient,
    clock: time_machine.Coordinates,
) -> None:
    user, _ = email_user
    failures = 0
    for ip in IPS:  # a token dies after 5 wrong codes: 4 tokens, 4 client IPs
        token = login(anon_client, user, HTTP_X_FORWARDED_FOR=ip)
        for _ in range(5):
            response = answer(anon_client, token, "000000", HTTP_X_FORWARDED_FOR=ip)
            failures += 1
            assert response.status_code == 401, (failures, response.content)
    assert failures == 20
    count, _, locked_until = counters(user)
    assert count == 20 and locked_until is not None
    # The IPs really differed (the audit trail shows each one).
    failed = MFAEvent.objects.filter(event=EventType.VERIFICATION_FAILED)
    assert set(failed.values_list("ip", flat=True)) == set(IPS)
    # Locked: even the right code is refused, for LOCKOUT_DURATION (900 s).
    shift(clock, 61)
    token = login(anon_client, user)
    response = answer(anon_client, token, last_code())
    assert_error(response, 429, "locked")
    assert response.json()["retry_after"] == 900 - 61
    assert response["Retry-After"] == str(900 - 61)


def test_the_lock_expires_and_each_further_failure_locks_again(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    MFAMethod.objects.filter(user=user).update(failure_count=19)
    token = login(anon_client, user)
    assert answer(anon_client, token, "000000").status_code == 401  # the 20th
    assert_error(answer(anon_client, token, last_code()), 429, "locked")
    shift(clock, 900)
    token = login(anon_client, user)  # the old token expired meanwhile
    assert answer(anon_client, token, "000000").status_code == 401  # evaluated again
    assert_error(answer(anon_client, token, "000000"), 429, "locked")
    shift(clock, 900)
    token = login(anon_client, user)
    assert answer(anon_client, token, last_code()).status_code == 200
    assert counters(user) == (0, None, None)


def test_switching_methods_does_not_multiply_the_allowance(
    two_methods: Any,
    anon_client: APIClient,
    clock: time_machine.Coordinates,
    trench_auth: Callable[..., Any],
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=6)
    user, backup = two_methods
    token = login(anon_client, user)
    not_a_backup_code = "0" * len(backup[0])
    tries = [("email", "000000"), ("email2", "000000"), ("email", not_a_backup_code)]
    for method, code in tries:
        assert answer(anon_client, token, code, method=method).status_code == 401
    token = login(anon_client, user)
    for method, code in tries:
        assert answer(anon_client, token, code, method=method).status_code == 401
    # 6 failures in all (4 + 2): every method is locked, backup codes too.
    for method in ("email", "email2"):
        assert_error(answer(anon_client, token, backup[0], method=method), 429, "locked")
    assert all(row.locked_until for row in MFAMethod.objects.filter(user=user))


def test_a_lock_refuses_protected_actions_and_activations(
    email_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email2": EMAIL2})
    user, backup = email_user
    MFAMethod.objects.filter(user=user).update(failure_count=19)
    assert api_client.post("/auth/email/deactivate/", {"code": "000000"}).status_code == 400
    assert_error(api_client.post("/auth/email/deactivate/", {"code": backup[0]}), 429, "locked")
    # Adding a method needs a code of the primary: refused unevaluated.
    response = api_client.post("/auth/email2/activate/", {"code": backup[1]})
    assert_error(response, 429, "locked")
    assert not MFAMethod.objects.filter(user=user, name="email2").exists()
    # An activation started before the lock cannot be confirmed during it.
    MFAMethod.objects.create(user=user, name="email2", activation_started_at=timezone.now())
    response = api_client.post("/auth/email2/activate/confirm/", {"code": "123456"})
    assert_error(response, 429, "locked")
    assert MFAMethod.objects.get(user=user, name="email").is_active
    assert not MFAMethod.objects.get(user=user, name="email2").is_active


def test_locking_sends_locked_out_once_and_writes_one_event(
    email_user: Any, anon_client: APIClient
) -> None:
    user, _ = email_user
    received: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        received.append(kwargs)

    signals.locked_out.connect(receiver)
    try:
        MFAMethod.objects.filter(user=user).update(failure_count=18)
        token = login(anon_client, user)
        assert answer(anon_client, token, "000000").status_code == 401  # 19: no lock
        assert received == []
        assert answer(anon_client, token, "000000").status_code == 401  # 20: lock
        assert answer(anon_client, token, "000000").status_code == 429  # refused
    finally:
        signals.locked_out.disconnect(receiver)
    assert len(received) == 1
    assert received[0]["user"] == user and received[0]["method"] == "email"
    assert received[0]["purpose"] == "login" and received[0]["ip"] == "127.0.0.1"
    event = MFAEvent.objects.get(event=EventType.LOCKED_OUT)
    assert (event.user_id, event.method, event.outcome) == (user.pk, "email", "locked")


def test_the_threshold_is_configurable(
    email_user: Any, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=3, LOCKOUT_DURATION=60)
    user, _ = email_user
    token = login(anon_client, user)
    for _ in range(3):
        assert answer(anon_client, token, "000000").status_code == 401
    response = answer(anon_client, token, "000000")
    assert_error(response, 429, "locked")
    assert response.json()["retry_after"] == 60


def test_no_code_is_sent_for_nothing_to_a_locked_account_by_a_wrong_answer(
    email_user: Any, anon_client: APIClient
) -> None:
    # Refused answers never touch the live code: after the lock it still works.
    user, _ = email_user
    MFAMethod.objects.filter(user=user).update(failure_count=20)
    token, code = challenge(anon_client, user)
    sent = len(mail.outbox)
    MFAMethod.objects.filter(user=user).update(locked_until=None)
    assert answer(anon_client, token, code).status_code == 200
    assert len(mail.outbox) == sent

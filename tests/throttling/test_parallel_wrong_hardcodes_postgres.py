"""Parallel wrong hardcodes against one user (PostgreSQL only, real threads).

The check, the evaluation and the recording hold the user's counter row
locked, so parallel tries queue: exactly ``HARDCODE_LOCKOUT_THRESHOLD`` are
evaluated, the rest are refused, and the lock holds for the right hardcode
until ``LOCKOUT_DURATION`` has passed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import time_machine
from django.apps import apps
from rest_framework.test import APIClient

from tests.conftest import PASSWORD
from tests.support.races import LOGIN_RACE_MARKS, post, race
from tests.support.throttling import PIN, WRONG_PIN, hardcode_login, shift
from trench_mfa.models import EventType, MFAEvent

pytestmark = LOGIN_RACE_MARKS

THREADS = 25
THRESHOLD = 10


def guard_failures() -> list[int]:
    """The failure counts of every hardcode counter row."""
    model = apps.get_model("trench_mfa", "HardcodeGuard")
    return sorted(model.objects.values_list("failure_count", flat=True))


def test_parallel_wrong_hardcodes_lock_at_exactly_the_threshold(
    hardcode_user: Any, clock: time_machine.Coordinates
) -> None:
    body = {"phone_number": hardcode_user.phone_number, "hardcode": WRONG_PIN}
    results = race([post("/auth/token/login/", body)] * THREADS)
    statuses = Counter(status for status, _ in results)
    assert statuses == {400: THRESHOLD, 429: THREADS - THRESHOLD}
    assert {payload["error_code"] for status, payload in results if status == 429} == {"locked"}
    assert guard_failures() == [THRESHOLD]
    assert MFAEvent.objects.filter(event=EventType.LOCKED_OUT).count() == 1
    # The right hardcode waits for the end of the lockout.
    assert hardcode_login(PIN).status_code == 429
    shift(clock, 900)
    assert hardcode_login(PIN).status_code == 200


def test_parallel_wrong_passwords_at_post_hardcode_lock_at_exactly_the_threshold(
    hardcode_user: Any,
) -> None:
    body = {"hardcode": "2468", "password": "not-the-password"}
    results = race([post("/auth/hardcode/", body, user=hardcode_user)] * THREADS)
    statuses = Counter(status for status, _ in results)
    assert statuses == {400: THRESHOLD, 429: THREADS - THRESHOLD}
    assert guard_failures() == [THRESHOLD]
    client = APIClient()
    client.force_authenticate(hardcode_user)
    right = client.post("/auth/hardcode/", {"hardcode": "2468", "password": PASSWORD})
    assert right.status_code == 429

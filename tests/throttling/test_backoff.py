"""The per-method back-off: THROTTLE_FACTOR * 2**(n-1) seconds after n failures.

Everything runs through the API with the package default (factor 1) and a
frozen clock. A refused check is a 429 and is not evaluated: a right code
fails too, and nothing is counted or consumed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connections
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.conftest import last_code as _last
from tests.support.throttling import answer, challenge, counters, login, shift, wrong
from trench_mfa.models import LoginChallenge, MFAMethod, OneTimeCode
from trench_mfa.state import backoff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_backoff")]


def test_delay_doubles_from_the_factor(trench_auth: Callable[..., Any]) -> None:
    assert [backoff.backoff_delay(n) for n in range(6)] == [0, 1, 2, 4, 8, 16]
    trench_auth(THROTTLE_FACTOR=0.5)
    assert [backoff.backoff_delay(n) for n in range(1, 4)] == [0.5, 1, 2]
    trench_auth(THROTTLE_FACTOR=0)
    assert backoff.backoff_delay(50) == 0


def test_delay_stays_finite_for_any_count() -> None:
    # A row with many old failures (e.g. counted while the factor was 0).
    assert backoff.backoff_delay(10_000) == backoff.MAX_BACKOFF
    assert backoff.backoff_delay(20) == 2**19  # 20 failures: the next try waits ~6 days


def test_a_refused_check_is_not_evaluated(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token, code = challenge(anon_client, user)
    assert answer(anon_client, token, wrong(code)).status_code == 401
    # Inside the 1 s back-off: the right code is refused without a look.
    refused = answer(anon_client, token, code)
    assert_error(refused, 429, "throttled")
    assert refused.json()["retry_after"] == 1 and refused["Retry-After"] == "1"
    live = OneTimeCode.objects.get(consumed_at__isnull=True)
    assert live.attempts == 1  # only the evaluated wrong code
    assert LoginChallenge.objects.get().failed_attempts == 1
    assert counters(user)[0] == 1
    shift(clock, 1)
    assert answer(anon_client, token, code).status_code == 200
    assert counters(user) == (0, None, None)


def test_retry_after_counts_down_to_the_end_of_the_back_off(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token, code = challenge(anon_client, user)
    for wait in (1, 2):  # failures 1 and 2, each after the previous back-off
        assert answer(anon_client, token, wrong(code)).status_code == 401
        shift(clock, wait)
    assert answer(anon_client, token, wrong(code)).status_code == 401  # 3rd: wait 4 s
    for step, left in ((0, 4), (1.5, 3), (1.5, 1)):
        shift(clock, step)
        response = answer(anon_client, token, code)
        assert response.status_code == 429
        assert response.json()["retry_after"] == left
    shift(clock, 1)  # 4 s after the 3rd failure
    assert answer(anon_client, token, code).status_code == 200


@pytest.mark.usefixtures("one_proxy")
def test_counts_survive_resends_new_tokens_and_other_ips(
    email_user: Any,
    anon_client: APIClient,
    clock: time_machine.Coordinates,
) -> None:
    user, _ = email_user
    for n, ip in enumerate(("198.51.100.1", "198.51.100.2", "198.51.100.3"), start=1):
        token = login(anon_client, user, HTTP_X_FORWARDED_FOR=ip)
        assert anon_client.post(
            "/auth/jwt/login/code/request/", {"ephemeral_token": token}
        ).status_code in (200, 429)
        assert answer(anon_client, token, "000000", HTTP_X_FORWARDED_FOR=ip).status_code == 401
        assert counters(user)[0] == n
        shift(clock, 61)  # past the back-off and the resend cooldown
    # The 4th client (new token, new IP) still meets the user's back-off.
    token = login(anon_client, user, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert answer(anon_client, token, "000000").status_code == 401
    assert_error(answer(anon_client, token, _last()), 429, "throttled")
    assert counters(user)[0] == 4


def test_success_resets_every_counter_of_the_user(
    two_methods: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = two_methods
    token = login(anon_client, user)
    assert answer(anon_client, token, "000000", method="email2").status_code == 401
    assert answer(anon_client, token, "000000", method="email").status_code == 401
    assert counters(user, "email")[0] == counters(user, "email2")[0] == 1
    shift(clock, 1)
    assert answer(anon_client, token, _last(), method="email").status_code == 200
    assert counters(user, "email") == counters(user, "email2") == (0, None, None)


@pytest.mark.usefixtures("two_methods")
def test_back_off_is_per_method(
    user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    token = login(anon_client, user)
    assert answer(anon_client, token, "000000", method="email").status_code == 401
    assert answer(anon_client, token, "000000", method="email").status_code == 429
    # email2 has no failure, so its check runs (and fails: no email2 code was sent).
    assert answer(anon_client, token, "000000", method="email2").status_code == 401


def test_a_right_code_for_one_method_counts_nothing_against_another(
    two_methods: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, backup = two_methods
    for _ in range(3):
        token = login(anon_client, user)
        assert answer(anon_client, token, _last(), method="email").status_code == 200
        shift(clock, 61)
    token = login(anon_client, user)
    assert answer(anon_client, token, backup[0], method="email").status_code == 200
    assert counters(user, "email2") == (0, None, None)
    assert counters(user, "email") == (0, None, None)


def test_a_wrong_backup_code_counts_against_the_challenged_method(
    two_methods: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, backup = two_methods
    token = login(anon_client, user)
    not_a_code = "0" * len(backup[0])  # backup-code format, but no such code
    assert answer(anon_client, token, not_a_code, method="email2").status_code == 401
    assert counters(user, "email2")[0] == 1 and counters(user, "email")[0] == 0
    # The back-off of email2 holds for backup codes offered in its place too.
    assert_error(answer(anon_client, token, backup[0], method="email2"), 429, "throttled")
    shift(clock, 1)
    assert answer(anon_client, token, backup[0], method="email2").status_code == 200
    assert counters(user, "email2") == (0, None, None)


def test_protected_actions_are_throttled_like_login(
    email_user: Any, api_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    assert api_client.post("/auth/code/request/").status_code == 200
    code = _last()
    response = api_client.post("/auth/email/deactivate/", {"code": wrong(code)})
    assert_error(response, 400, "code_invalid_or_expired")
    assert_error(api_client.post("/auth/email/deactivate/", {"code": code}), 429, "throttled")
    assert MFAMethod.objects.get(user=user).is_active
    shift(clock, 1)
    assert api_client.post("/auth/email/deactivate/", {"code": code}).status_code == 204


def test_activation_confirmation_is_throttled(
    user: Any, api_client: APIClient, clock: time_machine.Coordinates
) -> None:
    assert api_client.post("/auth/email/activate/").status_code == 200
    code = _last()
    response = api_client.post("/auth/email/activate/confirm/", {"code": wrong(code)})
    assert_error(response, 400, "code_invalid_or_expired")
    response = api_client.post("/auth/email/activate/confirm/", {"code": code})
    assert_error(response, 429, "throttled")
    assert not MFAMethod.objects.get(user=user).is_active
    shift(clock, 1)
    assert api_client.post("/auth/email/activate/confirm/", {"code": code}).status_code == 200


def test_malformed_codes_are_a_wrong_code_that_counts_nothing(
    email_user: Any, anon_client: APIClient
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    for bad in ("12345", "\uff11\uff12\uff13\uff14\uff15\uff16", "abc"):  # 5 digits, full-width
        assert_error(answer(anon_client, token, bad), 401, "invalid_code")
    assert counters(user) == (0, None, None)
    assert LoginChallenge.objects.get().failed_attempts == 0
    assert answer(anon_client, token, _last()).status_code == 200


def test_atomic_requests_do_not_roll_back_a_counted_failure(
    email_user: Any, anon_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under ATOMIC_REQUESTS an error response rolls the request's transaction
    # back; the MFA views opt out, so a wrong code stays counted.
    monkeypatch.setitem(connections["default"].settings_dict, "ATOMIC_REQUESTS", True)
    user, _ = email_user
    token = login(anon_client, user)
    assert answer(anon_client, token, "000000").status_code == 401
    assert counters(user)[0] == 1
    assert LoginChallenge.objects.get().failed_attempts == 1

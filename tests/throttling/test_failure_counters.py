"""Wrong codes against an account: counted without lost updates, a code that dies,
the back-off, the lockout across tokens and IPs, the reset on success, and
the one shape of every throttled answer (429 with Retry-After).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import assert_error, credentials, last_code
from tests.support.app import activate_and_confirm_app
from tests.support.throttling import JWT, answer, challenge, counters, login, shift, wrong
from trench_mfa import signals
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod, OneTimeCode
from trench_mfa.state import backoff, codes

pytestmark = pytest.mark.django_db


def test_failures_are_counted_without_lost_updates(email_user: Any) -> None:
    # Two requests that read the row before either wrote (stale instances):
    # each F() update still counts. The parallel versions run on PostgreSQL in
    # tests/throttling/test_parallel_wrong_codes_postgres.py and
    # tests/input_validation/test_concurrent_attempts_postgres.py.
    user, _ = email_user
    stale_a = MFAMethod.objects.get(user=user)
    stale_b = MFAMethod.objects.get(user=user)
    backoff.record_failure(stale_a, [stale_a])
    backoff.record_failure(stale_b, [stale_b])
    assert counters(user)[0] == 2
    method = MFAMethod.objects.get(user=user)
    code = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    assert codes.consume_code(method, CodePurpose.ACTION, code)
    assert not codes.consume_code(method, CodePurpose.ACTION, code)  # conditional UPDATE


@pytest.mark.usefixtures("no_resend_cooldown")
def test_a_code_dies_after_five_wrong_tries(email_user: Any, anon_client: APIClient) -> None:
    user, _ = email_user
    token, code = challenge(anon_client, user)
    for _ in range(5):
        assert answer(anon_client, token, wrong(code)).status_code == 401
    # The token died with its 5th wrong code; the code died too.
    assert_error(answer(anon_client, token, code), 401, "invalid_token")
    assert OneTimeCode.objects.get(consumed_at__isnull=True).attempts == 5
    token = login(anon_client, user)  # a new code is needed, and works
    assert answer(anon_client, token, last_code()).status_code == 200
    # The code's own cap, where no token dies with it (a protected action).
    api_client = APIClient()
    api_client.force_authenticate(user)
    api_client.post("/auth/code/request/")
    code = last_code()
    for _ in range(5):
        response = api_client.post("/auth/email/codes/regenerate/", {"code": wrong(code)})
        assert_error(response, 400, "code_invalid_or_expired")
    response = api_client.post("/auth/email/codes/regenerate/", {"code": code})
    assert_error(response, 400, "code_invalid_or_expired")
    api_client.post("/auth/code/request/")
    assert (
        api_client.post("/auth/email/codes/regenerate/", {"code": last_code()}).status_code == 200
    )


@pytest.mark.usefixtures("default_backoff")
def test_the_back_off_refuses_a_right_code_until_its_delay_has_passed(
    email_challenge: tuple[str, str], anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    token, code = email_challenge
    for wait in (1, 2, 0):  # three failures, each after the previous back-off
        assert answer(anon_client, token, wrong(code)).status_code == 401
        shift(clock, wait)
    shift(clock, 3)
    refused = answer(anon_client, token, code)  # +3 s: refused, not evaluated
    assert_error(refused, 429, "throttled")
    assert refused["Retry-After"] == "1"
    shift(clock, 1)
    assert answer(anon_client, token, code).status_code == 200  # +4 s: evaluated


@pytest.mark.usefixtures("one_proxy")
def test_wrong_codes_lock_the_account_across_tokens_and_forwarded_ips(
    email_user: Any,
    anon_client: APIClient,
    settings: Any,
    clock: time_machine.Coordinates,
) -> None:
    # The full version (20 failures over 4 tokens and 4 IPs) is in
    # tests/throttling/test_lockout.py; here over 3 tokens and 3 X-Forwarded-For.
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "LOCKOUT_THRESHOLD": 12}
    user, _ = email_user
    notified: list[Any] = []
    signals.locked_out.connect(
        lambda sender, **kw: notified.append(kw["user"]),
        weak=False,
        dispatch_uid="lockout-notification",
    )
    try:
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            token = login(anon_client, user, HTTP_X_FORWARDED_FOR=ip)
            for _ in range(4):
                answer(anon_client, token, "000000", HTTP_X_FORWARDED_FOR=ip)
    finally:
        signals.locked_out.disconnect(dispatch_uid="lockout-notification")
    assert notified == [user]  # the project's receiver notifies the user
    token = login(anon_client, user, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert_error(answer(anon_client, token, last_code()), 429, "locked")


def test_the_lockout_threshold_can_never_exceed_100(trench_auth: Callable[..., Any]) -> None:
    from trench_mfa.checks.settings import check_limits

    trench_auth(LOCKOUT_THRESHOLD=101)
    assert "trench_mfa.E140" in [m.id for m in check_limits()]


def test_a_success_resets_the_failure_counter(email_user: Any, anon_client: APIClient) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    answer(anon_client, token, "000000")
    answer(anon_client, token, "000001")
    assert counters(user)[0] == 2
    assert answer(anon_client, token, last_code()).status_code == 200
    assert counters(user) == (0, None, None)


def test_right_codes_of_one_method_never_count_against_another(
    email_user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    user, _ = email_user
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        totp = activate_and_confirm_app(api_client)
        for _ in range(10):
            shift(clock, 30)
            token = login(anon_client, user)
            assert answer(anon_client, token, totp.now(), method="app").status_code == 200
    assert counters(user, "email") == (0, None, None)
    assert counters(user, "app") == (0, None, None)


@pytest.mark.usefixtures("default_backoff")
def test_throttle_state_lives_in_the_database_not_the_cache(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    from rest_framework.settings import api_settings

    user, _ = email_user
    token = login(anon_client, user)
    assert answer(anon_client, token, "000000").status_code == 401
    cache.clear()  # another process, or a cache restart: nothing is forgotten
    other_process = APIClient()
    assert answer(other_process, token, last_code()).status_code == 429
    assert MFAMethod.objects.get(user=user).failure_count == 1
    assert api_settings.NUM_PROXIES == 0  # the test settings name the proxy count


@pytest.mark.usefixtures("default_backoff")
def test_every_throttled_answer_is_429_with_retry_after(
    email_user: Any,
    anon_client: APIClient,
    api_client: APIClient,
    settings: Any,
    clock: time_machine.Coordinates,
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    answer(anon_client, token, "000000")
    answers = {
        "back-off": answer(anon_client, token, "000000"),
        "cooldown": anon_client.post(JWT.resend, {"ephemeral_token": token}),
    }
    MFAMethod.objects.filter(user=user).update(locked_until=timezone.now() + timedelta(60))
    shift(clock, 2)
    answers["lockout"] = answer(anon_client, token, "000000")
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"trench_mfa_login": "1/min"},
    }
    anon_client.post(JWT.login, credentials(user))
    answers["login rate"] = anon_client.post(JWT.login, credentials(user))
    for name, response in answers.items():
        assert response.status_code == 429, name
        body = response.json()
        assert set(body) == {"error", "error_code", "retry_after"}, name
        assert body["error_code"] in {"throttled", "locked"}, name
        assert response["Retry-After"] == str(body["retry_after"]), name
    assert LoginChallenge.objects.count() >= 1


@pytest.mark.usefixtures("default_backoff")
def test_the_back_off_refuses_a_millisecond_early_and_evaluates_on_time(
    email_challenge: tuple[str, str], anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    token, code = email_challenge
    answer(anon_client, token, wrong(code))
    shift(clock, 1)
    answer(anon_client, token, wrong(code))  # 2 failures: wait 2 s
    shift(clock, 1.999)
    assert answer(anon_client, token, code).status_code == 429
    shift(clock, 0.001)
    assert answer(anon_client, token, code).status_code == 200

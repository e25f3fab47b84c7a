"""SECURITY-CHECKLIST sections C (verification) and D (throttling, lockout, resend).

One test per item, named ``test_item_<n>_...``, so every item is searchable.
Where a thorough test exists elsewhere, the one here is short and says where.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from tests.app.conftest import SEEDS, activate_app, totp_from_uri
from tests.conftest import (
    EMAIL2,
    FLAVOURS,
    activate,
    assert_error,
    credentials,
    last_code,
)
from tests.lockout.conftest import (
    answer,
    counters,
    login,
    shift,
    wrong,
)

# Fixtures shared with tests/lockout.
from tests.lockout.conftest import clock as clock
from tests.lockout.conftest import default_backoff as default_backoff
from tests.lockout.conftest import email_user as email_user
from tests.lockout.conftest import two_methods as two_methods
from tests.sms.outbox import OUTBOX, sent
from tests.yubikey.conftest import FakeValidationServer, make_otp
from tests.yubikey.conftest import yubi_settings as yubi_settings
from tests.yubikey.conftest import yubicloud as yubicloud
from trench_mfa import crypto, signals, throttling
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.models import CodePurpose, LoginChallenge, MFAMethod, OneTimeCode
from trench_mfa.secrets_at_rest import encrypt_secret
from trench_mfa.services import codes

pytestmark = pytest.mark.django_db

JWT = FLAVOURS[0]


def _app_user(user: Any, client: APIClient) -> Any:
    """Activate the app method at the current (frozen) time; the pyotp TOTP."""
    totp = totp_from_uri(activate_app(client)["details"])
    assert client.post("/auth/app/activate/confirm/", {"code": totp.now()}).status_code == 200
    return totp


# --- C. Verification -------------------------------------------------------------


def test_item_15_secret_comparisons_are_constant_time(
    user: Any, api_client: APIClient, anon_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = crypto.constant_time_equals

    def spy(left: str, right: str) -> bool:
        calls.append((left, right))
        return real(left, right)

    monkeypatch.setattr("trench_mfa.backends.application.constant_time_equals", spy)
    monkeypatch.setattr(crypto, "constant_time_equals", spy)
    with time_machine.travel(1_800_000_000, tick=False):
        totp = _app_user(user, api_client)
        calls.clear()
        token = login(anon_client, user)
        assert answer(anon_client, token, wrong(totp.now())).status_code == 401
    # The token's secret hash, then each TOTP step of the window (3), no early exit.
    assert len(calls) >= 4
    # Non-ASCII never reaches compare_digest as str: a plain mismatch, not a TypeError.
    assert real("\u00e9t\u00e9", "ete") is False
    # Non-ASCII digits are malformed: a wrong code that compares nothing and counts nothing.
    token = login(anon_client, user)
    before = counters(user, "app")[0]
    calls.clear()
    arabic = "\u0661\u0662\u0663\u0664\u0665\u0666"
    assert_error(answer(anon_client, token, arabic), 401, "invalid_code")
    assert not any(arabic in (left, right) for left, right in calls), calls
    assert LoginChallenge.objects.latest("pk").failed_attempts == 0
    assert counters(user, "app")[0] == before


def test_item_16_email_codes_are_single_use(email_user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/code/request/")
    code = last_code()
    assert api_client.post("/auth/email/codes/regenerate/", {"code": code}).status_code == 200
    response = api_client.post("/auth/email/codes/regenerate/", {"code": code})
    assert_error(response, 400, "code_invalid_or_expired")


def test_item_17_a_totp_step_is_accepted_once(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        totp = _app_user(user, api_client)
        shift(clock, 30)
        code_t = totp.now()
        assert answer(anon_client, login(anon_client, user), code_t).status_code == 200
        assert answer(anon_client, login(anon_client, user), code_t).status_code == 401
        shift(clock, 30)
        assert answer(anon_client, login(anon_client, user), totp.now()).status_code == 200
        # T-1 is still inside the window, but older than the last accepted step.
        assert answer(anon_client, login(anon_client, user), code_t).status_code == 401


def test_item_18_each_backup_code_succeeds_once(email_user: Any, anon_client: APIClient) -> None:
    user, backup = email_user
    assert answer(anon_client, login(anon_client, user), backup[0]).status_code == 200
    assert answer(anon_client, login(anon_client, user), backup[0]).status_code == 401


def test_item_19_a_yubikey_otp_is_accepted_once(
    user: Any, api_client: APIClient, yubicloud: FakeValidationServer, yubi_settings: Any
) -> None:
    api_client.post("/auth/yubi/activate/")
    otp = make_otp()
    assert api_client.post("/auth/yubi/activate/confirm/", {"code": otp}).status_code == 200
    # The validation server answers REPLAYED_OTP for an OTP it has seen.
    response = api_client.post("/auth/yubi/deactivate/", {"code": otp})
    assert_error(response, 400, "code_invalid_or_expired")
    assert api_client.post("/auth/yubi/deactivate/", {"code": make_otp()}).status_code == 204


def test_item_20_failures_are_counted_without_lost_updates(email_user: Any) -> None:
    # Two requests that read the row before either wrote (stale instances):
    # each F() update still counts. The parallel versions run on PostgreSQL in
    # tests/lockout/test_races_postgres.py and tests/hardening (section 3.9).
    user, _ = email_user
    stale_a = MFAMethod.objects.get(user=user)
    stale_b = MFAMethod.objects.get(user=user)
    throttling.record_failure(stale_a, [stale_a])
    throttling.record_failure(stale_b, [stale_b])
    assert counters(user)[0] == 2
    method = MFAMethod.objects.get(user=user)
    code = codes.issue_code(method, CodePurpose.ACTION, validity=300)
    assert codes.consume_code(method, CodePurpose.ACTION, code)
    assert not codes.consume_code(method, CodePurpose.ACTION, code)  # conditional UPDATE


def test_item_21_code_lifetime_is_five_minutes_and_expiry_looks_like_a_wrong_code(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    code = last_code()
    wrong_answer = answer(anon_client, token, wrong(code))
    shift(clock, 301)
    token = login(anon_client, user)  # cooldown over: a new code, the old one expired
    expired = answer(anon_client, token, code)
    assert expired.status_code == wrong_answer.status_code == 401
    assert expired.json() == wrong_answer.json()
    shift(clock, 299)
    assert answer(anon_client, token, last_code()).status_code == 200


def test_item_22_totp_parameters_and_server_time_only(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    uri = activate_app(api_client)["details"]
    assert "period=30" in uri and "digits=6" in uri and "algorithm=SHA1" in uri
    method = MFAMethod.objects.get(user=user, name="app")
    MFAMethod.objects.filter(pk=method.pk).update(secret=encrypt_secret(SEEDS["SHA1"]))
    with time_machine.travel(59, tick=False):  # RFC 6238 vector: 94287082 -> 287082
        handler = get_mfa_handler(MFAMethod.objects.get(pk=method.pk))
        assert handler.current_step() == 1
        assert handler.matching_step("287082") == 1
    with time_machine.travel(20_000_000_000, tick=False):  # T beyond 32 bits
        assert handler.matching_step("353130") == 20_000_000_000 // 30
    with time_machine.travel(1_000_000, tick=False):
        # A client-supplied time is ignored: the code of t=59 does not pass now.
        response = api_client.post(
            "/auth/app/activate/confirm/", {"code": "287082", "timestamp": 59}
        )
        assert_error(response, 400, "code_invalid_or_expired")


@pytest.mark.parametrize(("window", "accepted"), [(1, {0, 1, 2}), (0, {1})])
def test_item_23_drift_window(user: Any, settings: Any, window: int, accepted: set[int]) -> None:
    methods = dict(settings.TRENCH_AUTH["MFA_METHODS"])
    methods["app"] = {**methods["app"], "VALID_WINDOW": window}
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "MFA_METHODS": methods}
    method = MFAMethod.objects.create(
        user=user, name="app", secret=encrypt_secret(SEEDS["SHA1"]), is_active=True
    )
    hotp = {0: "755224", 1: "287082", 2: "359152", 3: "969429"}  # RFC 4226 Appendix D
    with time_machine.travel(59, tick=False):  # T = 1
        handler = get_mfa_handler(method)
        found = {step for step, code in hotp.items() if handler.matching_step(code) is not None}
    assert found == accepted


def test_item_24_codes_are_bound_to_purpose_transaction_method_and_user(
    two_methods: Any,
    api_client: APIClient,
    anon_client: APIClient,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    trench_auth: Callable[..., Any],
) -> None:
    trench_auth(RESEND_COOLDOWN=0)
    user, _ = two_methods
    # A protected-action code is no login code.
    api_client.post("/auth/code/request/")
    action_code = last_code()
    token_x = login(anon_client, user)
    login_code_x = last_code()
    assert answer(anon_client, token_x, action_code).status_code == 401
    # A login code works with its own login transaction only.
    token_y = login(anon_client, user)
    assert answer(anon_client, token_y, login_code_x).status_code == 401
    # A code of "email" is no code of "email2".
    assert answer(anon_client, token_y, last_code(), method="email2").status_code == 401
    # Another user's code never verifies for this user.
    bob = user_factory(username="bob", email="bob@example.com")
    bob_client = client_for(bob)
    activate(bob_client, "email")
    bob_client.post("/auth/code/request/")
    response = api_client.post("/auth/email/codes/regenerate/", {"code": last_code()})
    assert_error(response, 400, "code_invalid_or_expired")


def test_item_25_a_new_code_voids_the_previous_one(
    email_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(RESEND_COOLDOWN=0)
    api_client.post("/auth/code/request/")
    first = last_code()
    api_client.post("/auth/code/request/")
    second = last_code()
    assert first != second or OneTimeCode.objects.count() == 2
    assert_error(
        api_client.post("/auth/email/codes/regenerate/", {"code": first}),
        400,
        "code_invalid_or_expired",
    )
    assert api_client.post("/auth/email/codes/regenerate/", {"code": second}).status_code == 200


def test_item_26_inactive_users_and_inactive_methods_never_verify(
    two_methods: Any, anon_client: APIClient, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    user, _ = two_methods
    # A deactivated method: its right code fails.
    token = login(anon_client, user)
    api_client.post("/auth/code/request/", {"method": "email2"})
    assert api_client.post("/auth/email2/deactivate/", {"code": last_code()}).status_code == 204
    anon_client.post(JWT.resend, {"ephemeral_token": token})
    assert answer(anon_client, token, last_code(), method="email2").status_code == 401
    # A pending (unconfirmed) method cannot be used to log in.
    trench_auth(methods={"email3": EMAIL2})
    api_client.post("/auth/email3/activate/")
    pending_code = last_code()
    token = login(anon_client, user)
    assert answer(anon_client, token, pending_code, method="email3").status_code == 401
    # An inactive user: the token dies, even with the right code.
    token = login(anon_client, user)
    code = last_code()
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert_error(answer(anon_client, token, code), 401, "invalid_token")


def test_item_27_wrong_expired_used_and_wrong_purpose_codes_look_the_same(
    email_user: Any,
    anon_client: APIClient,
    api_client: APIClient,
    clock: time_machine.Coordinates,
) -> None:
    user, _ = email_user
    api_client.post("/auth/code/request/")
    action_code = last_code()
    token = login(anon_client, user)
    login_code = last_code()
    bodies = [
        answer(anon_client, token, wrong(login_code)),
        answer(anon_client, token, action_code),  # wrong purpose
    ]
    assert answer(anon_client, token, login_code).status_code == 200
    token = login(anon_client, user)
    bodies.append(answer(anon_client, token, login_code))  # used
    shift(clock, 400)
    token = login(anon_client, user)
    fresh = last_code()
    shift(clock, 301)
    bodies.append(answer(anon_client, login(anon_client, user), fresh))  # expired
    assert {(r.status_code, r.content) for r in bodies} == {
        (401, b'{"error":"Invalid or expired code.","error_code":"invalid_code"}')
    }


# --- D. Throttling, lockout, resend ------------------------------------------------


def test_item_28_a_code_dies_after_five_wrong_tries(
    email_user: Any, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(RESEND_COOLDOWN=0)
    user, _ = email_user
    token = login(anon_client, user)
    code = last_code()
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
def test_item_29_backoff_after_three_failures(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    code = last_code()
    for wait in (1, 2, 0):  # three failures, each after the previous back-off
        assert answer(anon_client, token, wrong(code)).status_code == 401
        shift(clock, wait)
    shift(clock, 3)
    refused = answer(anon_client, token, code)  # +3 s: refused, not evaluated
    assert_error(refused, 429, "throttled")
    assert refused["Retry-After"] == "1"
    shift(clock, 1)
    assert answer(anon_client, token, code).status_code == 200  # +4 s: evaluated


def test_item_30_hard_cap_across_tokens_and_forwarded_ips(
    email_user: Any,
    anon_client: APIClient,
    settings: Any,
    clock: time_machine.Coordinates,
) -> None:
    # The full version (20 failures over 4 tokens and 4 IPs) is in
    # tests/lockout/test_lockout.py; here over 3 tokens and 3 X-Forwarded-For.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "LOCKOUT_THRESHOLD": 12}
    user, _ = email_user
    notified: list[Any] = []
    signals.locked_out.connect(
        lambda sender, **kw: notified.append(kw["user"]), weak=False, dispatch_uid="item30"
    )
    try:
        for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
            token = login(anon_client, user, HTTP_X_FORWARDED_FOR=ip)
            for _ in range(4):
                answer(anon_client, token, "000000", HTTP_X_FORWARDED_FOR=ip)
    finally:
        signals.locked_out.disconnect(dispatch_uid="item30")
    assert notified == [user]  # the project's receiver notifies the user
    token = login(anon_client, user, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert_error(answer(anon_client, token, last_code()), 429, "locked")


def test_item_30_the_threshold_can_never_exceed_100(trench_auth: Callable[..., Any]) -> None:
    from trench_mfa.checks import check_limits

    trench_auth(LOCKOUT_THRESHOLD=101)
    assert "trench_mfa.E140" in [m.id for m in check_limits()]


def test_item_31_a_success_resets_the_failure_counter(
    email_user: Any, anon_client: APIClient
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    answer(anon_client, token, "000000")
    answer(anon_client, token, "000001")
    assert counters(user)[0] == 2
    assert answer(anon_client, token, last_code()).status_code == 200
    assert counters(user) == (0, None, None)


def test_item_32_a_right_code_for_a_never_counts_against_b(
    email_user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    user, _ = email_user
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        totp = _app_user(user, api_client)
        for _ in range(10):
            shift(clock, 30)
            token = login(anon_client, user)
            assert answer(anon_client, token, totp.now(), method="app").status_code == 200
    assert counters(user, "email") == (0, None, None)
    assert counters(user, "app") == (0, None, None)


@pytest.mark.usefixtures("default_backoff")
def test_item_33_throttle_state_is_in_the_database_not_the_cache(
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


def test_item_34_resend_cooldown_and_send_cap(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    shift(clock, 59)
    response = anon_client.post(JWT.resend, {"ephemeral_token": token})
    assert_error(response, 429, "throttled")
    assert response["Retry-After"] == "1" and len(mail.outbox) == 1
    shift(clock, 2)
    assert anon_client.post(JWT.resend, {"ephemeral_token": token}).status_code == 200
    assert len(mail.outbox) == 2
    # At most 5 sends in 10 minutes (tests/lockout/test_send_limit.py).
    from trench_mfa.conf import mfa_settings

    assert (mfa_settings.SEND_LIMIT, mfa_settings.SEND_LIMIT_WINDOW) == (5, 600)


def test_item_35_sms_sends_are_capped_per_number(
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    trench_auth: Callable[..., Any],
) -> None:
    trench_auth(methods={"sms": OUTBOX})
    sent.clear()
    statuses = []
    for n in range(20):
        victim = user_factory(username=f"u{n}", phone_number="+48600999888")
        statuses.append(client_for(victim).post("/auth/sms/activate/").status_code)
    assert statuses == [200] * 5 + [429] * 15
    assert len(sent) == 5
    # Per IP: the trench_mfa_send throttle (tests/lockout/test_login_throttle.py).


@pytest.mark.usefixtures("default_backoff")
def test_item_36_every_throttled_answer_is_429_with_retry_after(
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

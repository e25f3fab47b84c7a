"""What a code must be to verify: unused, in time, for its purpose, login, method and user.

One-time codes (email), TOTP steps, backup codes and YubiKey OTPs alike;
a code that fails for any reason looks like a plain wrong code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, activate, assert_error, last_code
from tests.support.app import SEEDS, activate_and_confirm_app, activate_app
from tests.support.throttling import JWT, answer, challenge, counters, login, shift, wrong
from tests.support.yubikey import FakeValidationServer, make_otp
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.models import LoginChallenge, MFAMethod, OneTimeCode
from trench_mfa.state import crypto
from trench_mfa.state.secrets_at_rest import encrypt_secret

pytestmark = pytest.mark.django_db


def test_secret_comparisons_are_constant_time_and_non_ascii_digits_compare_nothing(
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
        totp = activate_and_confirm_app(api_client)
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


def test_an_email_code_verifies_once(email_user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/code/request/")
    code = last_code()
    assert api_client.post("/auth/email/codes/regenerate/", {"code": code}).status_code == 200
    response = api_client.post("/auth/email/codes/regenerate/", {"code": code})
    assert_error(response, 400, "code_invalid_or_expired")


def test_a_totp_step_is_accepted_once(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        totp = activate_and_confirm_app(api_client)
        shift(clock, 30)
        code_t = totp.now()
        assert answer(anon_client, login(anon_client, user), code_t).status_code == 200
        assert answer(anon_client, login(anon_client, user), code_t).status_code == 401
        shift(clock, 30)
        assert answer(anon_client, login(anon_client, user), totp.now()).status_code == 200
        # T-1 is still inside the window, but older than the last accepted step.
        assert answer(anon_client, login(anon_client, user), code_t).status_code == 401


def test_each_backup_code_succeeds_once(email_user: Any, anon_client: APIClient) -> None:
    user, backup = email_user
    assert answer(anon_client, login(anon_client, user), backup[0]).status_code == 200
    assert answer(anon_client, login(anon_client, user), backup[0]).status_code == 401


def test_a_yubikey_otp_is_accepted_once(
    user: Any, api_client: APIClient, yubicloud: FakeValidationServer, yubi_settings: Any
) -> None:
    api_client.post("/auth/yubi/activate/")
    otp = make_otp()
    assert api_client.post("/auth/yubi/activate/confirm/", {"code": otp}).status_code == 200
    # The validation server answers REPLAYED_OTP for an OTP it has seen.
    response = api_client.post("/auth/yubi/deactivate/", {"code": otp})
    assert_error(response, 400, "code_invalid_or_expired")
    assert api_client.post("/auth/yubi/deactivate/", {"code": make_otp()}).status_code == 204


def test_codes_live_five_minutes_and_an_expired_code_looks_wrong(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token, code = challenge(anon_client, user)
    wrong_answer = answer(anon_client, token, wrong(code))
    shift(clock, 301)
    token = login(anon_client, user)  # cooldown over: a new code, the old one expired
    expired = answer(anon_client, token, code)
    assert expired.status_code == wrong_answer.status_code == 401
    assert expired.json() == wrong_answer.json()
    shift(clock, 299)
    assert answer(anon_client, token, last_code()).status_code == 200


def test_totp_uses_rfc_6238_parameters_and_the_server_time_only(
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
def test_the_drift_window_accepts_the_neighbouring_steps_only(
    user: Any, settings: Any, window: int, accepted: set[int]
) -> None:
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


def test_codes_are_bound_to_purpose_login_method_and_user(
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


def test_a_new_code_voids_the_previous_one(
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


def test_inactive_users_and_inactive_methods_never_verify(
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
    token, code = challenge(anon_client, user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert_error(answer(anon_client, token, code), 401, "invalid_token")


def test_wrong_expired_used_and_wrong_purpose_codes_look_the_same(
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

"""SECURITY-CHECKLIST section 3: time edges (3.8), throttle evasion (3.10),
dependency failures (3.11) and timing (3.12).

Sections 3.1-3.7 and 3.9 are in ``tests/hardening``.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.app.conftest import activate_app, totp_from_uri
from tests.conftest import FLAVOURS, activate, assert_error, last_code, login_body, use_mail
from tests.lockout.conftest import answer, counters, login, shift, wrong

# Fixtures shared with tests/lockout.
from tests.lockout.conftest import clock as clock
from tests.lockout.conftest import default_backoff as default_backoff
from tests.lockout.conftest import email_user as email_user
from tests.lockout.conftest import two_methods as two_methods
from tests.test_items_k_l import CountingHasher
from tests.yubikey.conftest import FakeValidationServer, closed_port_url, make_otp
from tests.yubikey.conftest import yubi_settings as yubi_settings
from tests.yubikey.conftest import yubicloud as yubicloud
from trench_mfa import tokens
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode
from trench_mfa.services import codes

pytestmark = pytest.mark.django_db

JWT = FLAVOURS[0]


# --- 3.8 Time edges ------------------------------------------------------------------


def test_section_3_8_code_expiry_edges(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    shift(clock, 299)
    assert answer(anon_client, token, last_code()).status_code == 200
    shift(clock, 61)
    token = login(anon_client, user)
    shift(clock, 301)
    assert answer(anon_client, token, last_code()).status_code == 401


def test_section_3_8_cooldown_edges(
    email_user: Any, api_client: APIClient, clock: time_machine.Coordinates
) -> None:
    assert api_client.post("/auth/code/request/").status_code == 200
    shift(clock, 59)
    assert api_client.post("/auth/code/request/").status_code == 429
    shift(clock, 2)
    assert api_client.post("/auth/code/request/").status_code == 200


@pytest.mark.usefixtures("default_backoff")
def test_section_3_8_back_off_edges(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    code = last_code()
    answer(anon_client, token, wrong(code))
    shift(clock, 1)
    answer(anon_client, token, wrong(code))  # 2 failures: wait 2 s
    shift(clock, 1.999)
    assert answer(anon_client, token, code).status_code == 429
    shift(clock, 0.001)
    assert answer(anon_client, token, code).status_code == 200


def test_section_3_8_token_lifetime_edges(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    # test_item_64 checks TTL-1 s and TTL+1 s through a full login; here the token alone.
    user, _ = email_user
    token, _ = tokens.issue_token(user, "email")
    shift(clock, 599)
    assert tokens.resolve_token(token)
    shift(clock, 1)
    with pytest.raises(Exception, match="Invalid or expired token"):
        tokens.resolve_token(token)


def test_section_3_8_a_clock_moved_back_cannot_replay_a_step(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        totp = totp_from_uri(activate_app(api_client)["details"])
        shift(clock, 60)
        code = totp.now()
        assert api_client.post("/auth/app/activate/confirm/", {"code": code}).status_code == 200
    # The server clock goes back one step: that step's code is older than the last one.
    with time_machine.travel(1_800_000_030, tick=False):
        token = login(anon_client, user)
        assert answer(anon_client, token, totp.now()).status_code == 401


# --- 3.10 Throttle evasion -------------------------------------------------------------


@pytest.mark.usefixtures("default_backoff")
def test_section_3_10_forwarded_for_rotation_does_not_reset_account_counts(
    email_user: Any, anon_client: APIClient, settings: Any, clock: time_machine.Coordinates
) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    user, _ = email_user
    token = login(anon_client, user)
    answer(anon_client, token, "000000", HTTP_X_FORWARDED_FOR="198.51.100.1")
    response = answer(anon_client, token, last_code(), HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert_error(response, 429, "throttled")


@pytest.mark.usefixtures("default_backoff")
def test_section_3_10_new_tokens_do_not_reset_account_counts(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    answer(anon_client, login(anon_client, user), "000000")
    assert_error(answer(anon_client, login(anon_client, user), last_code()), 429, "throttled")


def test_section_3_10_mixing_methods_stays_under_the_account_cap(
    two_methods: Any, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=4)
    user, backup = two_methods
    token = login(anon_client, user)
    for method, code in [("email", "000000"), ("email2", "000000"), ("email", "0" * 12)]:
        assert answer(anon_client, token, code, method=method).status_code == 401
    token = login(anon_client, user)
    assert answer(anon_client, token, "000000", method="email2").status_code == 401  # 4th
    assert_error(answer(anon_client, token, backup[0], method="email"), 429, "locked")


def test_section_3_10_inside_the_lock_a_right_code_fails_with_retry_after(
    email_user: Any, anon_client: APIClient
) -> None:
    user, _ = email_user
    MFAMethod.objects.filter(user=user).update(locked_until=timezone.now() + timedelta(seconds=300))
    token = login(anon_client, user)
    response = answer(anon_client, token, last_code())
    assert_error(response, 429, "locked")
    assert 299 <= int(response["Retry-After"]) <= 300
    assert OneTimeCode.objects.filter(consumed_at__isnull=True).count() == 1


# --- 3.11 Provider and dependency failures ----------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_section_3_11_smtp_down_is_a_generic_503_and_leaves_no_code(
    user: Any, api_client: APIClient, settings: Any
) -> None:
    use_mail(
        settings,
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=_closed_port(),
        timeout=2,
    )
    response = api_client.post("/auth/email/activate/")
    assert_error(response, 503, "dispatch_failed")
    assert set(response.json()) == {"error", "error_code"}
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()
    assert not MFAMethod.objects.filter(user=user).exists()


def test_section_3_11_yubicloud_unreachable_is_503_and_not_counted(
    user: Any,
    api_client: APIClient,
    anon_client: APIClient,
    yubicloud: FakeValidationServer,
    yubi_settings: Callable[..., Any],
) -> None:
    api_client.post("/auth/yubi/activate/")
    assert api_client.post("/auth/yubi/activate/confirm/", {"code": make_otp()}).status_code == 200
    yubi_settings(YUBICLOUD_API_URLS=[closed_port_url()])
    token = login(anon_client, user)
    response = answer(anon_client, token, make_otp())
    assert_error(response, 503, "dispatch_failed")
    assert counters(user, "yubi")[0] == 0
    # More cases (timeouts, BACKEND_ERROR, forged answers): tests/lockout/test_yubikey_counts.py.


def test_section_3_11_a_cache_that_is_down_fails_closed(
    user: Any, anon_client: APIClient, settings: Any
) -> None:
    settings.CACHES = {"default": {"BACKEND": "tests.lockout.broken_cache.BrokenCache"}}
    response = anon_client.post(JWT.login, login_body(user.get_username()))
    assert_error(response, 429, "throttled")


# --- 3.12 Timing --------------------------------------------------------------------------


def _close(samples: dict[str, list[float]], reference: str) -> None:
    """Every case within max(1.5 ms, 30 %) of the reference, by paired differences.

    The samples are interleaved (sample i of every case was taken in the same
    round), so the median of the per-round differences cancels the slow and
    fast phases of a shared machine that separate medians would pick up.
    """
    base = statistics.median(samples[reference])
    for name, values in samples.items():
        paired = [value - ref for value, ref in zip(values, samples[reference], strict=True)]
        difference = statistics.median(paired)
        assert abs(difference) < max(0.0015, 0.3 * base), (name, difference, base)


@pytest.mark.slow
def test_section_3_12_failed_codes_take_the_same_time(
    email_user: Any,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    trench_auth: Callable[..., Any],
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=100)
    user, _ = email_user
    bob = user_factory(username="bob", email="bob@example.com")
    activate(client_for(bob), "email")
    mine = MFAMethod.objects.get(user=user)
    bobs = MFAMethod.objects.get(user=bob)
    client = APIClient()
    samples: dict[str, list[float]] = {"wrong": [], "expired": [], "used": [], "other user": []}
    for _ in range(60):  # interleaved, so drift hits every case alike
        for case in samples:
            token, challenge = tokens.issue_token(user, "email")
            code = codes.issue_code(
                mine, CodePurpose.LOGIN, validity=300, challenge_id=challenge.pk
            )
            live = OneTimeCode.objects.filter(challenge_id=challenge.pk)
            submitted = code
            if case == "wrong":
                submitted = wrong(code)
            elif case == "expired":
                live.update(expires_at=timezone.now() - timedelta(seconds=1))
            elif case == "used":
                live.update(consumed_at=timezone.now())
            else:
                _, other = tokens.issue_token(bob, "email")
                submitted = codes.issue_code(
                    bobs, CodePurpose.LOGIN, validity=300, challenge_id=other.pk
                )
            started = time.perf_counter()
            response = client.post(JWT.code, {"ephemeral_token": token, "code": submitted})
            samples[case].append(time.perf_counter() - started)
            assert response.status_code == 401
            MFAMethod.objects.filter(pk=mine.pk).update(failure_count=0, last_failure_at=None)
    _close(samples, "wrong")


@pytest.mark.slow
def test_section_3_12_unknown_and_known_usernames_take_the_same_time(
    user_factory: Callable[..., Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hash of ~5 ms dominates the request, as a real hasher does.
    settings.PASSWORD_HASHERS = ["tests.test_items_k_l.CountingHasher"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    monkeypatch.setattr(CountingHasher, "iterations", 20_000)
    user_factory(username="known")
    user_factory(username="sleeper", is_active=False)
    cases = {
        "unknown": login_body("nobody", "whatever"),
        "wrong password": login_body("known", "whatever"),
        "inactive": login_body("sleeper"),
    }
    client = APIClient()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(40):
        for name, body in cases.items():
            started = time.perf_counter()
            response = client.post(JWT.login, body)
            samples[name].append(time.perf_counter() - started)
            assert response.status_code == 400
    _close(samples, "wrong password")

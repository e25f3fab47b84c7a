"""Failures take the same time whatever their reason (statistics: marked ``slow``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import activate, login_body
from tests.support.hashers import CountingHasher
from tests.support.throttling import JWT, wrong
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode
from trench_mfa.state import codes, tokens

pytestmark = pytest.mark.django_db


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
def test_wrong_expired_used_and_foreign_codes_take_the_same_time(
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
def test_unknown_known_and_inactive_usernames_take_the_same_time(
    user_factory: Callable[..., Any], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hash of ~5 ms dominates the request, as a real hasher does.
    settings.PASSWORD_HASHERS = ["tests.support.hashers.CountingHasher"]
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

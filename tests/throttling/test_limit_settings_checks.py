"""System checks of the limit settings and of the throttles' setup."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from trench_mfa.checks.settings import check_limits


def ids() -> list[str]:
    """The ids of ``check_limits()``'s messages, but W142.

    The test project keeps the throttle counts in a LocMemCache (W142,
    silenced in its settings); W142 has its own tests below.
    """
    return [m.id for m in check_limits() if m.id and m.id != "trench_mfa.W142"]


def test_defaults_and_the_test_project_pass() -> None:
    assert ids() == []


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("LOCKOUT_THRESHOLD", 101, "trench_mfa.E140"),
        ("LOCKOUT_THRESHOLD", 0, "trench_mfa.E140"),
        ("LOCKOUT_THRESHOLD", "20", "trench_mfa.E140"),
        ("LOCKOUT_THRESHOLD", True, "trench_mfa.E140"),
        ("LOCKOUT_DURATION", 0, "trench_mfa.E141"),
        ("LOCKOUT_DURATION", 1.5, "trench_mfa.E141"),
        ("THROTTLE_FACTOR", -1, "trench_mfa.E142"),
        ("THROTTLE_FACTOR", "1", "trench_mfa.E142"),
        ("MAX_CODE_ATTEMPTS", 0, "trench_mfa.E143"),
        ("MAX_CODE_ATTEMPTS", 11, "trench_mfa.E143"),
        ("HARDCODE_LOCKOUT_THRESHOLD", 11, "trench_mfa.E144"),
        ("HARDCODE_LOCKOUT_THRESHOLD", 0, "trench_mfa.E144"),
        ("HARDCODE_LOCKOUT_THRESHOLD", None, "trench_mfa.E144"),
    ],
)
def test_bad_limits_are_errors(
    trench_auth: Callable[..., Any], key: str, value: Any, error: str
) -> None:
    trench_auth(**{key: value})
    assert error in ids()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LOCKOUT_THRESHOLD", 100),
        ("LOCKOUT_THRESHOLD", 1),
        ("THROTTLE_FACTOR", 0),
        ("THROTTLE_FACTOR", 0.5),
        ("MAX_CODE_ATTEMPTS", 10),
        ("HARDCODE_LOCKOUT_THRESHOLD", 10),
        ("HARDCODE_LOCKOUT_THRESHOLD", 1),
    ],
)
def test_edge_values_pass(trench_auth: Callable[..., Any], key: str, value: Any) -> None:
    trench_auth(**{key: value})
    assert ids() == []


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({"RESEND_COOLDOWN": 29}, "trench_mfa.W143"),
        ({"RESEND_COOLDOWN": 0}, "trench_mfa.W143"),
        ({"RESEND_COOLDOWN": "60"}, "trench_mfa.W143"),
        ({"SEND_LIMIT": None}, "trench_mfa.W144"),
        ({"SEND_LIMIT": 6}, "trench_mfa.W144"),
        ({"SEND_LIMIT_WINDOW": 599}, "trench_mfa.W144"),
        ({"SEND_LIMIT": 3, "SEND_LIMIT_WINDOW": 300}, "trench_mfa.W144"),
    ],
)
def test_send_limits_looser_than_the_recommended_ones_are_warnings(
    trench_auth: Callable[..., Any], overrides: dict[str, Any], warning: str
) -> None:
    # Recommended: at least 30 s between codes, at most 5 per 10 minutes.
    trench_auth(**overrides)
    assert ids() == [warning]


@pytest.mark.parametrize(
    "overrides",
    [
        {"RESEND_COOLDOWN": 30},
        {"SEND_LIMIT": 1, "SEND_LIMIT_WINDOW": 120},
        {"SEND_LIMIT": 2, "SEND_LIMIT_WINDOW": 300},
        {"SEND_LIMIT": 5, "SEND_LIMIT_WINDOW": 3600},
    ],
)
def test_send_limits_within_the_recommended_ones_pass(
    trench_auth: Callable[..., Any], overrides: dict[str, Any]
) -> None:
    trench_auth(**overrides)
    assert ids() == []


def test_forwarded_for_without_num_proxies_is_a_warning(settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": None}
    assert ids() == ["trench_mfa.W141"]


@pytest.mark.parametrize(
    ("backend", "words"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", "each process keeps"),
        ("django.core.cache.backends.dummy.DummyCache", "never throttle"),
    ],
)
def test_a_cache_that_is_not_shared_is_a_warning(settings: Any, backend: str, words: str) -> None:
    settings.CACHES = {"default": {"BACKEND": backend}}
    [message] = check_limits()
    assert message.id == "trench_mfa.W142" and words in message.msg


def test_without_throttle_rates_the_cache_and_proxies_do_not_matter(settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": None,
        "DEFAULT_THROTTLE_RATES": {},
    }
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    # Only the missing login rate itself is reported (tests/checks).
    assert ids() == ["trench_mfa.W145"]

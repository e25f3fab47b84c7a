"""DRF throttles of login step 1 (per IP, per username) and of code sends (per IP).

The test project sets ``trench_mfa_login`` to 10/min and ``trench_mfa_send``
to 20/min, with ``NUM_PROXIES = 0``. Counts live in the cache, which the
suite empties before each test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, assert_error, login_body
from tests.support.throttling import JWT, shift

pytestmark = pytest.mark.django_db

RATE = 10


def rates(settings: Any, **scopes: str) -> None:
    """Set ``DEFAULT_THROTTLE_RATES`` (and nothing else) for this test."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": scopes}


def proxies(settings: Any, n: int | None) -> None:
    """Set DRF's ``NUM_PROXIES``."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": n}


def attempt(client: APIClient, login: str, **extra: Any) -> Any:
    """One login step 1 with a wrong password."""
    return client.post(JWT.login, login_body(login, "wrong-password"), **extra)


def assert_throttled(response: Any) -> None:
    """The MFA envelope for 429, with ``retry_after`` and ``Retry-After``."""
    assert_error(response, 429, "throttled")
    body = response.json()
    assert set(body) == {"error", "error_code", "retry_after"}
    assert body["retry_after"] >= 1 and response["Retry-After"] == str(body["retry_after"])


def test_step_one_is_limited_per_client_ip(anon_client: APIClient) -> None:
    for n in range(RATE):
        assert attempt(anon_client, f"nobody{n}").status_code == 400
    assert_throttled(attempt(anon_client, "somebody-else"))


def test_step_one_is_limited_per_username_from_any_ip(
    user: Any, anon_client: APIClient, settings: Any
) -> None:
    proxies(settings, 1)
    name = user.get_username()
    for n in range(RATE):
        response = attempt(anon_client, name, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code == 400
    assert_throttled(attempt(anon_client, name, HTTP_X_FORWARDED_FOR="203.0.113.1"))
    # Even the right password is refused (not evaluated) while throttled.
    right = anon_client.post(JWT.login, login_body(name), HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert_throttled(right)
    # Another username from a new address is not affected.
    assert attempt(anon_client, "other", HTTP_X_FORWARDED_FOR="203.0.113.3").status_code == 400


def test_case_variants_of_a_username_share_one_count(
    user: Any, anon_client: APIClient, settings: Any
) -> None:
    proxies(settings, 1)
    name = user.get_username()
    variants = [name.upper(), name.lower(), f" {name} ", name.title()]
    for n in range(RATE):
        ip = f"198.51.100.{n}"
        attempt(anon_client, variants[n % len(variants)], HTTP_X_FORWARDED_FOR=ip)
    assert_throttled(attempt(anon_client, name, HTTP_X_FORWARDED_FOR="203.0.113.1"))


def test_unicode_lookalikes_of_a_username_share_one_count(
    user: Any, anon_client: APIClient, settings: Any
) -> None:
    # Databases match identifiers more loosely than str.casefold():
    # PostgreSQL's UPPER() (Django's iexact, used for email identifiers of
    # login flows) turns a dotless "\u0131" into "I", so "al\u0131ce@..." logs
    # alice in; MySQL's accent-insensitive collations ignore accents. Each
    # such spelling must count against the same name.
    proxies(settings, 1)
    name = user.get_username()
    assert name.startswith("alice")
    rest = name[len("alice") :]
    variants = [
        "al\u0131ce" + rest,  # dotless i
        "AL\u0130CE" + rest.upper(),  # capital I with a dot above
        "\u00e1lice" + rest,  # an accent
        "\uff41lice" + rest,  # a fullwidth letter
        "ali\u0107e" + rest,  # another accent
    ]
    for n in range(RATE):
        ip = f"198.51.100.{n}"
        attempt(anon_client, variants[n % len(variants)], HTTP_X_FORWARDED_FOR=ip)
    assert_throttled(attempt(anon_client, name, HTTP_X_FORWARDED_FOR="203.0.113.1"))
    assert attempt(anon_client, "bob", HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 400


def test_a_forged_forwarded_for_header_does_not_reset_the_ip_count(
    anon_client: APIClient,
) -> None:
    # NUM_PROXIES = 0 (test project): X-Forwarded-For is ignored.
    for n in range(RATE):
        attempt(anon_client, f"nobody{n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert_throttled(attempt(anon_client, "x", HTTP_X_FORWARDED_FOR="203.0.113.77"))


def test_behind_one_proxy_the_forwarded_address_is_the_client(
    anon_client: APIClient, settings: Any
) -> None:
    proxies(settings, 1)
    for n in range(RATE):
        attempt(anon_client, f"nobody{n}", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert_throttled(attempt(anon_client, "x", HTTP_X_FORWARDED_FOR="198.51.100.7"))
    # A client may prepend anything; only the entry the proxy added counts.
    forged = attempt(anon_client, "y", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.7")
    assert_throttled(forged)
    assert attempt(anon_client, "z", HTTP_X_FORWARDED_FOR="198.51.100.8").status_code == 400


def test_the_previous_window_weighs_less_as_it_slides_out(anon_client: APIClient) -> None:
    # Windows of the rate's duration, aligned on the epoch (1_800_000_000 is
    # a multiple of 60); the previous one counts by the share of it still
    # inside the last minute. Retry-After says when one more would pass.
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        for n in range(RATE):
            attempt(anon_client, f"nobody{n}")
        refused = attempt(anon_client, "x")
        assert_throttled(refused)
        # The next window starts with 10 weighed in full; 9 of them after 6 s.
        assert refused["Retry-After"] == "66"
        shift(clock, 45.5)
        assert attempt(anon_client, "x")["Retry-After"] == "21"
        shift(clock, 14.5)
        assert attempt(anon_client, "x")["Retry-After"] == "6"
        shift(clock, 6)
        assert attempt(anon_client, "x").status_code == 400
        assert_throttled(attempt(anon_client, "y"))


def test_a_burst_across_the_end_of_a_window_passes_no_more_than_the_rate(
    anon_client: APIClient,
) -> None:
    with time_machine.travel(1_800_000_000 - 0.1, tick=False) as clock:
        for n in range(RATE // 2):
            assert attempt(anon_client, f"early{n}").status_code == 400
        shift(clock, 0.2)
        for n in range(RATE - RATE // 2):
            assert attempt(anon_client, f"late{n}").status_code == 400
        assert_throttled(attempt(anon_client, "one too many"))


def test_no_rate_means_no_throttling(anon_client: APIClient, settings: Any) -> None:
    rates(settings)
    for n in range(3 * RATE):
        assert attempt(anon_client, f"nobody{n}").status_code == 400


def test_the_rate_is_read_on_each_request(anon_client: APIClient, settings: Any) -> None:
    rates(settings, trench_mfa_login="2/min")
    attempt(anon_client, "a")
    attempt(anon_client, "b")
    assert_throttled(attempt(anon_client, "c"))
    rates(settings, trench_mfa_login="100/min")
    assert attempt(anon_client, "d").status_code == 400


@pytest.mark.parametrize("scopes", [{"trench_mfa_login": "10/min"}, {}])
def test_a_cache_that_is_down_fails_closed(
    user: Any,
    anon_client: APIClient,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    scopes: dict[str, str],
) -> None:
    rates(settings, **scopes)
    settings.CACHES = {"default": {"BACKEND": "tests.support.broken_cache.BrokenCache"}}
    checked: list[Any] = []
    monkeypatch.setattr("trench_mfa.login.start.authenticate", lambda *a, **k: checked.append(k))
    response = anon_client.post(JWT.login, login_body(user.get_username()))
    if scopes:
        assert_throttled(response)
        assert checked == []  # the password was never checked
        assert "the cache failed (ConnectionError)" in caplog.text
        assert PASSWORD not in caplog.text
    else:  # no rate: the cache is never asked
        assert response.status_code == 400 and len(checked) == 1


def test_a_body_that_is_not_an_object_is_a_400_not_a_throttle_error(
    anon_client: APIClient,
) -> None:
    assert anon_client.post(JWT.login, ["alice"], format="json").status_code == 400
    assert anon_client.post(JWT.login, {"username": 5, "password": "x"}).status_code == 400


def test_code_sends_are_limited_per_client_ip(
    email_mfa_user: Any,
    api_client: APIClient,
    settings: Any,
    trench_auth: Callable[..., Any],
) -> None:
    rates(settings, trench_mfa_send="2/min")
    trench_auth(RESEND_COOLDOWN=0, SEND_LIMIT=0)
    cache.clear()  # forget the activation's send
    mail.outbox.clear()
    assert api_client.post("/auth/code/request/").status_code == 200
    assert api_client.post("/auth/code/request/").status_code == 200
    assert_throttled(api_client.post("/auth/code/request/"))
    assert len(mail.outbox) == 2

"""Parallel login step 1: the throttle counts atomically, so N requests sent
together never get more than the rate to the password check.

Each case runs against LocMemCache and, when ``REDIS_URL`` is set, against
Redis (django-redis), the shared cache a deployment with several app servers
uses. The requests are real threads released together by a barrier; the
password check is counted by replacing ``authenticate``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connections
from rest_framework.test import APIClient

from tests.conftest import login_body
from tests.support.throttling import JWT

pytestmark = pytest.mark.django_db

#: The test project's ``trench_mfa_login`` rate (10/min).
RATE = 10
#: Requests sent together: three times the rate.
PARALLEL = 3 * RATE
#: Bound on every wait of a test, so a deadlock fails instead of hanging.
TIMEOUT = 30.0

_LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def _redis() -> dict[str, Any]:
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL is not set: no Redis to run the Redis case against")
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "trench_mfa_parallel_throttle",
        }
    }


@pytest.fixture(params=["locmem", "redis"])
def real_cache(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """The default cache as LocMemCache or Redis, empty before and after."""
    settings.CACHES = _LOCMEM if request.param == "locmem" else _redis()
    cache.clear()
    yield request.param
    cache.clear()


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every call of the password check, appended under a lock; it always fails."""
    calls: list[int] = []
    lock = threading.Lock()

    def authenticate(*args: Any, **kwargs: Any) -> None:
        with lock:
            calls.append(1)
        return None

    monkeypatch.setattr("trench_mfa.login.start.authenticate", authenticate)
    return calls


def post_together(bodies_and_ips: list[tuple[dict[str, str], str]]) -> list[int]:
    """Post each body from its client IP, all threads released at once; the statuses."""
    barrier = threading.Barrier(len(bodies_and_ips), timeout=TIMEOUT)
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(body: dict[str, str], ip: str) -> None:
        try:
            client = APIClient()  # a test client per thread: they are not thread-safe
            barrier.wait()
            response = client.post(JWT.login, body, HTTP_X_FORWARDED_FOR=ip)
            with lock:
                statuses.append(response.status_code)
        except BaseException as exc:  # reported by the main thread
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()  # this thread's own database connections

    threads = [threading.Thread(target=one, args=pair) for pair in bodies_and_ips]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request did not finish"
    assert errors == []
    return statuses


@pytest.mark.usefixtures("one_proxy")
def test_parallel_wrong_passwords_for_one_username_pass_at_most_the_rate(
    real_cache: str, password_checks: list[int]
) -> None:
    # One username from PARALLEL client addresses: only the username's
    # count can stop them.
    body = login_body("victim", "wrong-password")
    statuses = post_together([(body, f"198.51.100.{n}") for n in range(PARALLEL)])
    assert len(password_checks) == RATE
    assert sorted(statuses) == [400] * RATE + [429] * (PARALLEL - RATE)


@pytest.mark.usefixtures("one_proxy")
def test_parallel_attempts_from_one_ip_pass_at_most_the_rate(
    real_cache: str, password_checks: list[int]
) -> None:
    # PARALLEL usernames from one address: only the IP's count can stop them.
    bodies = [login_body(f"nobody{n}", "wrong-password") for n in range(PARALLEL)]
    statuses = post_together([(body, "198.51.100.7") for body in bodies])
    assert len(password_checks) == RATE
    assert sorted(statuses) == [400] * RATE + [429] * (PARALLEL - RATE)

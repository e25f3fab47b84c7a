"""Fixtures and helpers of the back-off, lockout and throttle tests.

The suite-wide ``_no_backoff_and_fresh_cache`` fixture turns the back-off
off; ``default_backoff`` here puts the package default back, so these
tests see what a project sees.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, FLAVOURS, activate, credentials, last_code
from tests.support.flows import PHONE
from trench_mfa.models import MFAMethod

#: The login flavour used where the flavour does not matter (JWT).
JWT = FLAVOURS[0]
#: A fixed start for frozen-clock tests.
T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def default_backoff(settings: Any) -> None:
    """``TRENCH_AUTH`` without ``THROTTLE_FACTOR``: the package default (1 s) applies."""
    settings.TRENCH_AUTH = {k: v for k, v in settings.TRENCH_AUTH.items() if k != "THROTTLE_FACTOR"}


@pytest.fixture
def one_proxy(settings: Any) -> None:
    """One reverse proxy in front (``NUM_PROXIES = 1``): ``X-Forwarded-For`` names the client."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """A frozen clock at :data:`T0`; ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def shift(clock: time_machine.Coordinates, seconds: float) -> None:
    """Move the frozen clock forward."""
    clock.shift(timedelta(seconds=seconds))


@pytest.fixture
def email_user(user: Any, api_client: APIClient) -> tuple[Any, list[str]]:
    """``user`` with the email method active (primary); (user, backup codes)."""
    codes = activate(api_client, "email")
    mail.outbox.clear()
    return user, codes


@pytest.fixture
def two_methods(
    email_user: tuple[Any, list[str]],
    api_client: APIClient,
    trench_auth: Callable[..., Any],
) -> tuple[Any, list[str]]:
    """``user`` with ``email`` (primary) and ``email2`` active; (user, backup codes)."""
    trench_auth(methods={"email2": EMAIL2})
    assert activate(api_client, "email2") == []
    mail.outbox.clear()
    return email_user


@pytest.fixture
def email_login_token(
    email_user: tuple[Any, list[str]], anon_client: APIClient, clock: time_machine.Coordinates
) -> str:
    """Login step 1 of ``email_user`` (JWT flavour) on the frozen ``clock``; the ephemeral token.

    The opening of most back-off, cooldown and time-edge tests; the user is
    the ``user`` fixture.
    """
    return login(anon_client, email_user[0])


@pytest.fixture
def email_challenge(email_login_token: str) -> tuple[str, str]:
    """:func:`email_login_token` and the code its login emailed; (token, code)."""
    return email_login_token, last_code()


def login(client: APIClient, user: Any, **extra: Any) -> str:
    """Login step 1 (JWT flavour); the ephemeral token."""
    response = client.post(JWT.login, credentials(user), **extra)
    assert response.status_code == 200, response.content
    return str(response.json()["ephemeral_token"])


def challenge(client: APIClient, user: Any, **extra: Any) -> tuple[str, str]:
    """Login step 1 (JWT flavour); the ephemeral token and the emailed code."""
    token = login(client, user, **extra)
    return token, last_code()


def answer(
    client: APIClient, token: str, code: str, method: str | None = None, **extra: Any
) -> Any:
    """Login step 2 (JWT flavour)."""
    body = {"ephemeral_token": token, "code": code}
    if method:
        body["method"] = method
    return client.post(JWT.code, body, **extra)


def wrong(code: str) -> str:
    """A well-formed code that differs from ``code``."""
    return "000000" if code != "000000" else "111111"


def counters(user: Any, name: str = "email") -> tuple[int, Any, Any]:
    """(failure_count, last_failure_at, locked_until) of one method row."""
    row = MFAMethod.objects.get(user=user, name=name)
    return row.failure_count, row.last_failure_at, row.locked_until


def fresh_code() -> str:
    """The code in the last email."""
    return last_code()


#: The hardcode of :func:`hardcode_user`, and a wrong one.
PIN = "4711"
WRONG_PIN = "0000"
#: The login flow of the hardcode tests: phone number and hardcode, then an SMS code.
HARDCODE_FLOW = ("phone_number", "hardcode", "passcode")


@pytest.fixture
def hardcode_user(flows_config: Callable[..., Any], verified_user: Any) -> Any:
    """``user`` (alice): confirmed number, hardcode :data:`PIN`, the flow :data:`HARDCODE_FLOW`."""
    from trench_mfa.services import hardcode

    flows_config(flows=[HARDCODE_FLOW])
    hardcode.store_hardcode(verified_user, PIN)
    return verified_user


def hardcode_login(pin: str, phone: str = PHONE, **extra: Any) -> Any:
    """Login step 1 (authtoken) with ``phone`` and ``pin``, from a fresh client."""
    return APIClient().post("/auth/token/login/", {"phone_number": phone, "hardcode": pin}, **extra)

"""Abuse limits: the resend cooldown and the per-number cap.

The outbox method (``tests.support.sms_outbox``) runs the whole SMS base and records
what would have been sent, so "no provider request" is ``outbox.sent``
staying unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import assert_error, credentials, last_code
from tests.support import sms_outbox as outbox
from tests.support.methods import bound_method
from tests.support.sms_outbox import OUTBOX
from tests.support.sms_providers import PHONE
from trench_mfa.models import OneTimeCode

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
LOGIN = "/auth/jwt/login/"
LOGIN_CODE = "/auth/jwt/login/code/"
RESEND = "/auth/jwt/login/code/request/"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A frozen clock at :data:`NOON`; ``clock.shift(seconds)`` moves it."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sms(sms_methods: Callable[..., dict[str, Any]]) -> None:
    """The ``sms`` method records to the outbox."""
    sms_methods(sms=OUTBOX)


def last_sms_code() -> str:
    """The code in the last recorded SMS."""
    match = re.search(r"\b(\d{6})\b", outbox.sent[-1][1])
    assert match, outbox.sent[-1]
    return match.group(1)


@pytest.fixture
def sms_user(sms: None, user_factory: Callable[..., Any]) -> Any:
    """A user whose primary, active method is ``sms`` (recording to the outbox)."""
    user = user_factory(phone_number=PHONE)
    bound_method(user, "sms", is_primary=True)
    return user


@pytest.fixture
def client_on(
    user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> Callable[..., APIClient]:
    """``client_on(number=PHONE)``: the API client of a new user with that phone number."""

    def new_client(number: str = PHONE) -> APIClient:
        return client_for(user_factory(phone_number=number))

    return new_client


@pytest.fixture
def sms_client(sms_user: Any, client_for: Callable[[Any], APIClient]) -> APIClient:
    """``sms_user``'s API client."""
    return client_for(sms_user)


def login(client: APIClient, user: Any) -> dict[str, Any]:
    """Login step 1; returns the body (asserts 200)."""
    response = client.post(LOGIN, credentials(user))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def request_code(client: APIClient, method: str = "sms") -> Any:
    """A code for a protected action, sent by ``method``."""
    return client.post("/auth/code/request/", {"method": method})


def login_code(client: APIClient, token: str, code: str) -> Any:
    """Login step 2 with ``token`` and ``code``."""
    return client.post(LOGIN_CODE, {"ephemeral_token": token, "code": code})


def check_59_then_61_seconds(
    client: APIClient,
    method: str,
    clock: time_machine.Traveller,
    sent: Callable[[], int],
    last: Callable[[], str],
) -> None:
    """A code; at +59 s a 429 (``Retry-After: 1``) and nothing sent; at +61 s a new code."""
    assert request_code(client, method).status_code == 200
    first = last()
    clock.shift(59)
    assert_throttled(request_code(client, method), 1)
    assert sent() == 1
    clock.shift(2)
    assert request_code(client, method).status_code == 200
    assert sent() == 2
    assert last() != first


def assert_throttled(response: Any, retry_after: int) -> None:
    """429 ``throttled`` with the same ``Retry-After`` in header and body."""
    assert_error(response, 429, "throttled")
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.json()["retry_after"] == retry_after


# --- cooldown ----------------------------------------------------------------------------


@pytest.mark.usefixtures("sequential_codes")
def test_cooldown_59_seconds_is_429_and_61_seconds_sends(
    sms_client: APIClient, clock: time_machine.Traveller
) -> None:
    check_59_then_61_seconds(sms_client, "sms", clock, lambda: len(outbox.sent), last_sms_code)
    # The new code replaced the first one: the only live code is the +61 s one.
    live = OneTimeCode.objects.get(consumed_at__isnull=True)
    assert live.created_at == NOON + timedelta(seconds=61)


def test_retry_after_counts_down(sms_client: APIClient, clock: time_machine.Traveller) -> None:
    assert request_code(sms_client).status_code == 200
    assert_throttled(request_code(sms_client), 60)
    clock.shift(20.5)
    assert_throttled(request_code(sms_client), 40)


def test_a_used_code_ends_the_cooldown(
    sms_user: Any, anon_client: APIClient, clock: time_machine.Traveller
) -> None:
    token = login(anon_client, sms_user)["ephemeral_token"]
    response = login_code(anon_client, token, last_sms_code())
    assert response.status_code == 200, response.content

    clock.shift(5)
    second = login(anon_client, sms_user)["ephemeral_token"]

    assert len(outbox.sent) == 2
    response = login_code(anon_client, second, last_sms_code())
    assert response.status_code == 200, response.content


def test_login_inside_the_cooldown_moves_the_live_code_to_the_new_token(
    sms_user: Any, anon_client: APIClient, clock: time_machine.Traveller
) -> None:
    first = login(anon_client, sms_user)
    code = last_sms_code()

    clock.shift(10)
    second = login(anon_client, sms_user)

    assert second["method"] == "sms" and second["ephemeral_token"] != first["ephemeral_token"]
    assert len(outbox.sent) == 1, "nothing new is sent inside the cooldown"
    old = login_code(anon_client, first["ephemeral_token"], code)
    assert_error(old, 401, "invalid_code")
    new = login_code(anon_client, second["ephemeral_token"], code)
    assert new.status_code == 200, new.content
    assert "access" in new.json()


@pytest.mark.usefixtures("sequential_codes")
def test_login_resend_inside_the_cooldown_is_429(
    sms_user: Any, anon_client: APIClient, clock: time_machine.Traveller
) -> None:
    token = login(anon_client, sms_user)["ephemeral_token"]
    code = last_sms_code()

    clock.shift(30)
    assert_throttled(anon_client.post(RESEND, {"ephemeral_token": token}), 30)
    assert len(outbox.sent) == 1

    clock.shift(31)
    assert anon_client.post(RESEND, {"ephemeral_token": token}).status_code == 200
    assert len(outbox.sent) == 2
    assert last_sms_code() != code
    stale = login_code(anon_client, token, code)
    assert_error(stale, 401, "invalid_code")


@pytest.mark.usefixtures("clock")
def test_cooldown_is_per_method_and_purpose(sms_user: Any, sms_client: APIClient) -> None:
    login(APIClient(), sms_user)
    # A login code is live; a protected-action code is another purpose.
    assert request_code(sms_client).status_code == 200
    assert len(outbox.sent) == 2


def test_failed_send_leaves_no_cooldown(sms_client: APIClient) -> None:
    outbox.fail_next = 1
    response = request_code(sms_client)
    assert_error(response, 503, "dispatch_failed")
    assert request_code(sms_client).status_code == 200
    assert len(outbox.sent) == 1


def test_cooldown_zero_turns_it_off(
    sms_client: APIClient, sms_methods: Callable[..., dict[str, Any]]
) -> None:
    sms_methods(sms=OUTBOX, settings={"RESEND_COOLDOWN": 0})
    for _ in range(3):
        assert request_code(sms_client).status_code == 200
    assert len(outbox.sent) == 3


@pytest.mark.usefixtures("sequential_codes")
def test_email_follows_the_same_cooldown(
    email_mfa_user: tuple[Any, list[str]],
    api_client: APIClient,
    clock: time_machine.Traveller,
) -> None:
    check_59_then_61_seconds(api_client, "email", clock, lambda: len(mail.outbox), last_code)


# --- per-number cap ----------------------------------------------------------------------


@pytest.mark.usefixtures("sms")
def test_twenty_users_on_one_number_get_five_messages_per_hour(
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    clock: time_machine.Traveller,
) -> None:
    users = [user_factory(phone_number=PHONE) for _ in range(20)]
    statuses = []
    for index, user in enumerate(users):
        clock.shift(60)
        response = client_for(user).post("/auth/sms/activate/")
        statuses.append(response.status_code)
        if response.status_code == 429:
            # The oldest of the five sends (at +60 s) leaves the window at +3660 s.
            assert_throttled(response, 3600 - 60 * (index + 1) + 60)

    assert statuses == [200] * 5 + [429] * 15
    assert len(outbox.sent) == 5
    assert {number for number, _ in outbox.sent} == {PHONE}
    assert OneTimeCode.objects.count() == 5

    # Sliding hour: at +3659 s all five sends still count; at +3660 s the
    # first (+60 s) has left the window and exactly one more may go out.
    clock.shift(3659 - 1200)
    assert_throttled(client_for(users[5]).post("/auth/sms/activate/"), 1)
    clock.shift(1)
    assert client_for(users[5]).post("/auth/sms/activate/").status_code == 200
    assert_throttled(client_for(users[6]).post("/auth/sms/activate/"), 60)
    assert len(outbox.sent) == 6


@pytest.mark.usefixtures("sms")
def test_the_cap_counts_the_normalised_number(
    client_on: Callable[..., APIClient], sms_methods: Callable[..., dict[str, Any]]
) -> None:
    sms_methods(sms=OUTBOX, settings={"SMS_MAX_PER_NUMBER": 2})
    spellings = ["+48600100200", "+48 600 100 200", "+48-600-100-200"]
    codes = [client_on(number).post("/auth/sms/activate/") for number in spellings]
    assert [r.status_code for r in codes] == [200, 200, 429]


def test_failed_sends_do_not_use_up_the_cap(
    client_on: Callable[..., APIClient], sms_methods: Callable[..., dict[str, Any]]
) -> None:
    sms_methods(sms=OUTBOX, settings={"SMS_MAX_PER_NUMBER": 1})
    client = client_on()
    outbox.fail_next = 3
    for _ in range(3):
        assert_error(client.post("/auth/sms/activate/"), 503, "dispatch_failed")
    assert client.post("/auth/sms/activate/").status_code == 200
    other = client_on()
    assert other.post("/auth/sms/activate/").status_code == 429


def test_no_cap_when_unset(
    client_on: Callable[..., APIClient], sms_methods: Callable[..., dict[str, Any]]
) -> None:
    sms_methods(sms=OUTBOX, settings={"SMS_MAX_PER_NUMBER": None})
    for _ in range(7):
        assert client_on().post("/auth/sms/activate/").status_code == 200
    assert len(outbox.sent) == 7

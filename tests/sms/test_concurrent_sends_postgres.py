"""SMS limits under real concurrency (PostgreSQL, threads, one connection each).

SQLite serialises writers and would hide races, so these run only in the
``TEST_DATABASE_URL`` leg and skip elsewhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from tests.conftest import credentials
from tests.support import sms_outbox as outbox
from tests.support.methods import bound_method
from tests.support.races import race
from tests.support.sms_outbox import OUTBOX
from tests.support.sms_providers import PHONE, TWILIO
from trench_mfa.models import SendQuota

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10
NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """A frozen clock (shared by every thread)."""
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def test_ten_parallel_resends_make_one_provider_call(
    stub: HTTPServer,
    sms_methods: Callable[..., dict[str, Any]],
    user_factory: Callable[..., Any],
    clock: time_machine.Traveller,
) -> None:
    sms_methods(sms_twilio=TWILIO.settings(stub.url_for("/").rstrip("/")))
    TWILIO.expect(stub)
    user = user_factory(phone_number=PHONE)
    bound_method(user, "sms_twilio", is_primary=True)
    login = APIClient().post("/auth/jwt/login/", credentials(user))
    assert login.status_code == 200, login.content
    token = login.json()["ephemeral_token"]
    assert len(stub.log) == 1
    clock.shift(61)

    def resend() -> int:
        response = APIClient().post("/auth/jwt/login/code/request/", {"ephemeral_token": token})
        return response.status_code

    statuses = race([resend] * THREADS)

    assert Counter(statuses) == {200: 1, 429: THREADS - 1}
    assert len(stub.log) == 2, "at most one provider call inside the cooldown"


def test_parallel_sends_to_one_number_respect_the_cap(
    sms_methods: Callable[..., dict[str, Any]],
    user_factory: Callable[..., Any],
    clock: time_machine.Traveller,
) -> None:
    sms_methods(sms=OUTBOX, settings={"SMS_MAX_PER_NUMBER": 3})
    clients = []
    for _ in range(THREADS):
        client = APIClient()
        client.force_authenticate(user_factory(phone_number=PHONE))
        clients.append(client)

    statuses = race([lambda c=c: c.post("/auth/sms/activate/").status_code for c in clients])

    assert Counter(statuses) == {200: 3, 429: THREADS - 3}
    assert len(outbox.sent) == 3
    assert len(SendQuota.objects.get().sent_at) == 3

"""Wrong hardcodes count like wrong codes: back-off, then a lockout, per user.

A hardcode may be a 4-digit PIN, so ``HARDCODE_LOCKOUT_THRESHOLD`` (10)
consecutive wrong tries, from any client IP, lock it for ``LOCKOUT_DURATION``:
meanwhile the right hardcode is refused (429 with ``Retry-After``), unevaluated.
The password that confirms ``POST hardcode/`` counts toward the same lock.
An identifier that names nobody locks the same way, so the 429 reveals
nobody. Parallel tries are in ``test_parallel_wrong_hardcodes_postgres.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, activate, assert_error, last_code
from tests.support import sms_outbox as outbox
from tests.support.flows import PHONE
from tests.support.throttling import HARDCODE_FLOW, PIN, WRONG_PIN, hardcode_login, shift
from trench_mfa.models import EventType, MFAEvent
from trench_mfa.services import hardcode, identifiers

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_login_throttle", "one_proxy")]

THRESHOLD = 10
DURATION = 900
SET_URL = "/auth/hardcode/"


def wrong_tries(n: int, phone: str = PHONE) -> list[int]:
    """``n`` wrong hardcodes for ``phone``, each from its own client IP; the statuses."""
    return [
        hardcode_login(WRONG_PIN, phone, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(n)
    ]


def assert_locked(response: Any, retry_after: int) -> None:
    """A 429 ``locked`` answer with ``retry_after`` seconds in the body and the header."""
    assert_error(response, 429, "locked")
    assert response.json()["retry_after"] == retry_after
    assert response["Retry-After"] == str(retry_after)


def test_wrong_hardcodes_lock_the_flow_until_the_lockout_ends(
    hardcode_user: Any, clock: time_machine.Coordinates
) -> None:
    assert wrong_tries(THRESHOLD) == [400] * THRESHOLD
    outbox.sent.clear()
    # Locked: the right hardcode opens nothing, and no SMS code is sent.
    assert_locked(hardcode_login(PIN), DURATION)
    shift(clock, DURATION - 1)
    assert_locked(hardcode_login(PIN, HTTP_X_FORWARDED_FOR="203.0.113.9"), 1)
    assert outbox.sent == []
    shift(clock, 1)
    response = hardcode_login(PIN)
    assert response.status_code == 200, response.content
    assert response.json()["method"] == "sms" and len(outbox.sent) == 1
    event = MFAEvent.objects.get(event=EventType.LOCKED_OUT)
    assert (event.user_id, event.method, event.purpose) == (hardcode_user.pk, "hardcode", "login")


def test_each_failure_after_the_lock_locks_again_and_a_success_resets(
    hardcode_user: Any, clock: time_machine.Coordinates
) -> None:
    wrong_tries(THRESHOLD)
    shift(clock, DURATION)
    assert wrong_tries(1) == [400]
    assert_locked(hardcode_login(PIN), DURATION)
    shift(clock, DURATION)
    assert hardcode_login(PIN).status_code == 200
    # The success reset the count: a full threshold of tries again.
    assert wrong_tries(THRESHOLD - 1) == [400] * (THRESHOLD - 1)
    assert hardcode_login(PIN).status_code == 200


@pytest.mark.usefixtures("default_backoff")
def test_the_back_off_refuses_the_next_try_for_a_while(
    hardcode_user: Any, clock: time_machine.Coordinates
) -> None:
    assert wrong_tries(1) == [400]
    response = hardcode_login(PIN)
    assert_error(response, 429, "throttled")
    assert response["Retry-After"] == "1"
    shift(clock, 1)
    assert hardcode_login(PIN).status_code == 200


def test_the_threshold_is_a_setting(
    hardcode_user: Any, flows_config: Callable[..., Any], clock: time_machine.Coordinates
) -> None:
    flows_config(flows=[HARDCODE_FLOW], HARDCODE_LOCKOUT_THRESHOLD=3)
    assert wrong_tries(3) == [400] * 3
    assert_locked(hardcode_login(PIN), DURATION)


def test_an_identifier_that_names_nobody_locks_the_same_way(
    hardcode_user: Any, user_factory: Callable[..., Any], clock: time_machine.Coordinates
) -> None:
    # Unknown, and known without a hardcode: answered like alice, 429 included.
    without = user_factory(username="bob", phone_number="+48600100201")
    identifiers.mark_confirmed(without, "phone_number")
    numbers = (PHONE, "+48600999888", "+48600100201")
    for number in numbers:
        assert wrong_tries(THRESHOLD, number) == [400] * THRESHOLD
    answers = [hardcode_login(PIN, number) for number in numbers]
    for response in answers:
        assert_locked(response, DURATION)
    assert len({r.content for r in answers}) == 1
    # No number is stored in clear (bob's own row holds his, of course).
    for model in apps.get_app_config("trench_mfa").get_models():
        stored = repr(list(model._default_manager.values()))
        assert "600999888" not in stored, model


def test_wrong_passwords_at_post_hardcode_count_toward_the_same_lock(
    hardcode_user: Any, api_client: APIClient, clock: time_machine.Coordinates
) -> None:
    for _ in range(THRESHOLD - 1):
        body = {"hardcode": "2468", "password": "not-the-password"}
        assert_error(api_client.post(SET_URL, body), 400, "invalid_password")
    assert wrong_tries(1) == [400]  # the tenth failure, at login
    # The right password no longer sets a hardcode, nor does the right one log in.
    assert_locked(api_client.post(SET_URL, {"hardcode": "2468", "password": PASSWORD}), DURATION)
    assert_locked(hardcode_login(PIN), DURATION)
    assert hardcode.check_hardcode(hardcode_user, PIN)
    shift(clock, DURATION)
    assert api_client.post(SET_URL, {"hardcode": "2468", "password": PASSWORD}).status_code == 204
    assert hardcode_login("2468").status_code == 200


def test_a_new_hardcode_set_with_a_code_ends_the_lockout(
    hardcode_user: Any, api_client: APIClient, clock: time_machine.Coordinates
) -> None:
    activate(api_client, "email")
    wrong_tries(THRESHOLD)
    assert_locked(hardcode_login(PIN), DURATION)
    mail.outbox.clear()
    assert api_client.post("/auth/code/request/").status_code == 200
    response = api_client.post(SET_URL, {"hardcode": "2468", "code": last_code()})
    assert response.status_code == 204, response.content
    # The guesses so far were at the old hardcode: the new one works at once.
    assert hardcode_login("2468").status_code == 200


def test_a_locked_hardcode_flow_gives_way_to_another_flow_that_fits(
    hardcode_user: Any, flows_config: Callable[..., Any], clock: time_machine.Coordinates
) -> None:
    flows_config(flows=[HARDCODE_FLOW, ("phone_number", "passcode")])
    wrong_tries(THRESHOLD)
    # The body also fits the passwordless flow, which answers as usual.
    response = hardcode_login(PIN)
    assert response.status_code == 200, response.content
    assert response.json()["factors_remaining"] == []


def test_any_wrong_secret_of_a_flow_with_a_hardcode_counts(
    hardcode_user: Any, flows_config: Callable[..., Any], clock: time_machine.Coordinates
) -> None:
    # A wrong password with the right hardcode counts too: the lock must not
    # tell which of the two was wrong.
    flows_config(flows=[("phone_number", "password", "hardcode", "passcode")])
    client = APIClient()
    body = {"phone_number": PHONE, "password": "not-the-password", "hardcode": PIN}
    for _ in range(THRESHOLD):
        assert_error(client.post("/auth/token/login/", body), 400, "unauthenticated")
    body["password"] = PASSWORD
    assert_locked(client.post("/auth/token/login/", body), DURATION)

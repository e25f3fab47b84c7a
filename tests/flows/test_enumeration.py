"""Passwordless flows never reveal whether an identifier exists.

An identifier nobody can log in with (unknown, unconfirmed, inactive, shared
by two users) gets a decoy challenge: the same status and body, a token of
the same form, nothing sent, and no database change a real login does not
make too. Its token then fails the way a real one fails a wrong code:
format errors, ``invalid_code``, back-off, lockout, the token's attempt cap,
the resend cooldown and the per-number cap.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import Flavour, assert_error
from tests.support import sms_outbox as outbox
from tests.support.flows import PHONE, changed_tables, table_counts
from trench_mfa.models import LoginChallenge, MFAEvent, MFAMethod, OneTimeCode
from trench_mfa.services import identifiers

KNOWN = "alice@example.com"
TOKEN = re.compile(r"^[0-9]+\.[A-Za-z0-9_-]{43}:[A-Za-z0-9_-]{43}$")
PASSWORDLESS = [("email", "passcode"), ("phone_number", "passcode")]


@pytest.fixture(autouse=True)
def _flows(flows_config: Callable[..., Any]) -> None:
    flows_config(flows=PASSWORDLESS)


def login(flavour: Flavour, body: dict[str, Any]) -> Any:
    """Login step 1 with a fresh client."""
    return APIClient().post(flavour.login, body)


def observed(flavour: Flavour, body: dict[str, Any]) -> tuple[Any, dict[str, int], int]:
    """(response, table changes, messages sent) of one step 1."""
    before, sent = table_counts(), len(mail.outbox) + len(outbox.sent)
    response = login(flavour, body)
    return (
        response,
        changed_tables(before, table_counts()),
        len(mail.outbox) + len(outbox.sent) - sent,
    )


def same_answer(real: Any, decoy: Any) -> None:
    """Same status, same keys and values except the token, tokens of one form."""
    assert real.status_code == decoy.status_code == 200, (real.content, decoy.content)
    real_body, decoy_body = real.json(), decoy.json()
    assert set(real_body) == set(decoy_body)
    real_token, decoy_token = real_body.pop("ephemeral_token"), decoy_body.pop("ephemeral_token")
    assert TOKEN.match(real_token) and TOKEN.match(decoy_token)
    assert real_body == decoy_body
    assert real["Cache-Control"] == decoy["Cache-Control"]


def make_unusable(kind: str, user_factory: Callable[..., Any]) -> str:
    """An email address that logs nobody in, for each reason."""
    if kind == "unknown":
        return "nobody@example.com"
    if kind == "unconfirmed":
        user_factory(username="bob", email="bob@example.com")
        return "bob@example.com"
    if kind == "inactive":
        bob = user_factory(username="bob", email="bob@example.com")
        identifiers.mark_confirmed(bob, "email")
        bob.is_active = False
        bob.save()
        return "bob@example.com"
    # Two users share the address: neither logs in with it.
    for name in ("bob", "bob2"):
        identifiers.mark_confirmed(user_factory(username=name, email="bob@example.com"), "email")
    return "bob@example.com"


@pytest.mark.parametrize("kind", ["unknown", "unconfirmed", "inactive", "ambiguous"])
def test_step_1_looks_the_same_and_sends_nothing(
    flavour: Flavour, verified_user: Any, user_factory: Callable[..., Any], kind: str
) -> None:
    if kind == "ambiguous" and get_user_model().USERNAME_FIELD == "email":
        pytest.skip("email is the unique USERNAME_FIELD of this user model")
    address = make_unusable(kind, user_factory)
    real, real_changes, real_sent = observed(flavour, {"email": KNOWN})
    decoy, decoy_changes, decoy_sent = observed(flavour, {"email": address})
    same_answer(real, decoy)
    assert (real_sent, decoy_sent) == (1, 0)
    # The decoy writes the rows a first real login writes (its challenge,
    # the channel row, the code), all but the audit event: it has no account.
    events = MFAEvent._meta.db_table
    assert decoy_changes == {t: n for t, n in real_changes.items() if t != events}
    assert LoginChallenge.objects.filter(user__isnull=True).count() == 1
    assert MFAMethod.objects.filter(user__isnull=True).get().is_phantom


def test_the_decoy_rows_hold_no_address(flavour: Flavour, db: None) -> None:
    login(flavour, {"email": "nobody@example.com"})
    rows = [LoginChallenge.objects.get(), MFAMethod.objects.get(), OneTimeCode.objects.get()]
    assert all("nobody" not in repr(row.__dict__) for row in rows)


def test_step_2_fails_the_same_way(flavour: Flavour, verified_user: Any) -> None:
    real_token = login(flavour, {"email": KNOWN}).json()["ephemeral_token"]
    decoy_token = login(flavour, {"email": "nobody@example.com"}).json()["ephemeral_token"]
    client = APIClient()
    answers = []
    for token in (real_token, decoy_token):
        seen = []
        # A malformed code is a wrong code that counts nothing: five wrong
        # codes (MAX_CODE_ATTEMPTS) still follow before the token is spent.
        response = client.post(flavour.code, {"ephemeral_token": token, "code": "12ab"})
        assert_error(response, 401, "invalid_code")
        seen.append((response.status_code, response.json()))
        for _ in range(5):  # MAX_CODE_ATTEMPTS
            response = client.post(flavour.code, {"ephemeral_token": token, "code": "000000"})
            assert_error(response, 401, "invalid_code")
            seen.append((response.status_code, response.json()))
        response = client.post(flavour.code, {"ephemeral_token": token, "code": "000000"})
        assert_error(response, 401, "invalid_token")
        seen.append((response.status_code, response.json()))
        answers.append(seen)
    assert answers[0] == answers[1]


def test_back_off_and_lockout_look_the_same(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any, time_machine: Any
) -> None:
    flows_config(flows=PASSWORDLESS, THROTTLE_FACTOR=1, LOCKOUT_THRESHOLD=3)
    time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
    client = APIClient()
    answers: dict[str, list[tuple[int, str, Any]]] = {}
    for address in (KNOWN, "nobody@example.com"):
        seen = answers.setdefault(address, [])
        for _ in range(3):
            token = login(flavour, {"email": address}).json()["ephemeral_token"]
            body = {"ephemeral_token": token, "code": "000000"}
            for _ in range(2):
                response = client.post(flavour.code, body)
                data = response.json()
                seen.append((response.status_code, data["error_code"], data.get("retry_after")))
            time_machine.shift(10)
    assert answers[KNOWN] == answers["nobody@example.com"]
    codes = [code for _, code, _ in answers[KNOWN]]
    assert codes[:2] == ["invalid_code", "throttled"] and "locked" in codes


def test_resend_cooldown_looks_the_same(
    flavour: Flavour, verified_user: Any, time_machine: Any
) -> None:
    time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
    tokens = [
        login(flavour, {"email": e}).json()["ephemeral_token"] for e in (KNOWN, "x@example.com")
    ]
    client = APIClient()
    first = [client.post(flavour.resend, {"ephemeral_token": t}) for t in tokens]
    assert [r.status_code for r in first] == [429, 429]
    assert first[0].json() == first[1].json() and first[0]["Retry-After"] == first[1]["Retry-After"]
    time_machine.shift(61)
    later = [client.post(flavour.resend, {"ephemeral_token": t}) for t in tokens]
    assert [r.status_code for r in later] == [200, 200]
    assert later[0].json() == later[1].json()
    assert len(mail.outbox) == 2  # the real user's two codes only


def test_send_limit_looks_the_same(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any, time_machine: Any
) -> None:
    flows_config(flows=PASSWORDLESS, RESEND_COOLDOWN=0, SEND_LIMIT=2)
    time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
    for address in (KNOWN, "nobody@example.com"):
        statuses = []
        for _ in range(3):
            response = login(flavour, {"email": address})
            statuses.append((response.status_code, response.json().get("retry_after")))
            time_machine.shift(1)
        assert statuses == [(200, None), (200, None), (429, 598)], address
        time_machine.shift(-3)
    assert len(mail.outbox) == 2


def test_per_number_cap_looks_the_same(
    flavour: Flavour, flows_config: Callable[..., Any], verified_user: Any, time_machine: Any
) -> None:
    flows_config(flows=PASSWORDLESS, SMS_MAX_PER_NUMBER=1)
    time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
    unknown = "+48600999888"
    first = [login(flavour, {"phone_number": n}) for n in (PHONE, unknown)]
    same_answer(*first)
    time_machine.shift(61)  # past the cooldown: a new code would be sent
    second = [login(flavour, {"phone_number": n}) for n in (PHONE, unknown)]
    assert [r.status_code for r in second] == [429, 429]
    assert second[0].json() == second[1].json()
    assert [to for to, _ in outbox.sent] == [PHONE]


def test_a_value_the_channel_refuses_looks_the_same(
    flavour: Flavour, user_factory: Callable[..., Any]
) -> None:
    if get_user_model().USERNAME_FIELD == "email":
        pytest.skip("the email-only user model validates addresses")
    odd = user_factory(username="odd", email="not-an-address")
    identifiers.mark_confirmed(odd, "email")
    real = login(flavour, {"email": "not-an-address"})
    decoy = login(flavour, {"email": "also-not-an-address"})
    assert_error(real, 400, "invalid_input")
    assert real.json() == decoy.json()


@pytest.mark.slow
def test_step_1_takes_comparable_time(flavour: Flavour, verified_user: Any, settings: Any) -> None:
    # Timing: medians of known and unknown identifiers within 5 ms.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}
    client = APIClient()

    def timed(address: str) -> float:
        started = time.perf_counter()
        response = client.post(flavour.login, {"email": address})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200
        return elapsed

    def pair(index: int) -> float:
        unknown = f"nobody{index}@example.com"
        if index % 2:  # half the pairs in each order: being second costs nothing then
            spent_unknown = timed(unknown)
            return timed(KNOWN) - spent_unknown
        spent_known = timed(KNOWN)
        return spent_known - timed(unknown)

    # Each identifier has been seen once, as the known one has: its first
    # step 1 writes the row its state lives in (a user's channel row, a
    # decoy's phantom row), which docs/security.rst lists as a known limit.
    timed(KNOWN)
    for index in range(100):
        timed(f"nobody{index}@example.com")
    # Paired samples (known and unknown back to back, alternating which goes
    # first): the median of the differences cancels the slow and fast phases
    # of a shared machine, and any cost of going first or second.
    differences = [pair(index) for index in range(100)]
    assert abs(statistics.median(differences)) < 0.005, statistics.median(differences)


def _count_write_commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count transactions that write (autocommit statements and atomic blocks alike)."""
    from django.db import connection

    counted = [0]
    pending = [False]
    writes = ("INSERT", "UPDATE", "DELETE")

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith(writes):
            if connection.in_atomic_block:
                pending[0] = True
            else:
                counted[0] += 1
        return execute(sql, params, many, context)

    real_commit = connection.commit

    def commit() -> None:
        if pending[0]:
            counted[0] += 1
            pending[0] = False
        real_commit()

    monkeypatch.setattr(connection, "commit", commit)
    connection.execute_wrappers.append(wrapper)
    return counted


def test_a_decoy_commits_as_many_writes_as_a_real_step_1(
    flavour: Flavour,
    transactional_db: None,
    verified_user: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On a real server each commit that writes costs a log flush (fsync),
    # far more than a query: a decoy must flush as often as a real login.
    from django.db import connection

    for address in (KNOWN, "nobody@example.com"):
        login(flavour, {"email": address})  # the channel and phantom rows exist from now on
    counted = _count_write_commits(monkeypatch)
    try:
        seen = []
        for address in (KNOWN, "nobody@example.com"):
            counted[0] = 0
            assert login(flavour, {"email": address}).status_code == 200
            seen.append(counted[0])
    finally:
        connection.execute_wrappers.pop()
    real, decoy = seen
    assert real >= 3 and decoy == real, seen

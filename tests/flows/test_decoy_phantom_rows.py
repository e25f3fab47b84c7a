"""The phantom rows behind decoy logins: one per identifier, bounded, apart, never a method.

A decoy keeps its codes, cooldowns and failure counters in a method row
without a user (a phantom). Only login step 1 creates one, so the login
throttle bounds how fast they appear; each identifier has its own, whose
lockout locks nobody else; the database refuses a phantom that is active,
primary or owned by a user.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, assert_error
from trench_mfa.models import LoginChallenge, MFAMethod

LOGIN, CODE, RESEND = FLAVOURS[0].login, FLAVOURS[0].code, FLAVOURS[0].resend


@pytest.fixture(autouse=True)
def _flows(flows_config: Callable[..., Any]) -> None:
    flows_config(flows=[("email", "passcode")])


def phantom_rows() -> int:
    """How many phantom rows there are."""
    return MFAMethod.objects.filter(user__isnull=True).count()


def step_1(address: str) -> Any:
    """Login step 1 with a fresh client."""
    return APIClient().post(LOGIN, {"email": address})


def test_one_phantom_row_per_identifier_whatever_is_asked(
    no_login_throttle: None, time_machine: Any, db: None
) -> None:
    time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
    tokens = [step_1("nobody@example.com").json()["ephemeral_token"] for _ in range(3)]
    for token in tokens:
        APIClient().post(CODE, {"ephemeral_token": token, "code": "000000"})
        time_machine.shift(61)
        assert APIClient().post(RESEND, {"ephemeral_token": token}).status_code == 200
    assert phantom_rows() == 1
    step_1("somebody-else@example.com")
    assert phantom_rows() == 2


def test_the_login_throttle_bounds_how_fast_phantom_rows_appear(settings: Any, db: None) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"trench_mfa_login": "3/min"},
    }
    statuses = [step_1(f"nobody{n}@example.com").status_code for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert phantom_rows() == 3 == LoginChallenge.objects.count()


def test_a_locked_phantom_locks_no_other_identifier(
    flows_config: Callable[..., Any], no_login_throttle: None, db: None
) -> None:
    flows_config(flows=[("email", "passcode")], LOCKOUT_THRESHOLD=2)
    locked, other = (
        step_1(a).json()["ephemeral_token"] for a in ("one@example.com", "two@example.com")
    )
    answers = [
        APIClient().post(CODE, {"ephemeral_token": locked, "code": "000000"}) for _ in range(3)
    ]
    assert_error(answers[-1], 429, "locked")
    response = APIClient().post(CODE, {"ephemeral_token": other, "code": "000000"})
    assert_error(response, 401, "invalid_code")
    assert MFAMethod.objects.filter(locked_until__isnull=False).count() == 1


@pytest.mark.parametrize(
    "state",
    [
        {"is_active": True},
        {"is_active": True, "is_primary": True},
        {"with_user": True},
        {"phantom": None},
    ],
    ids=["active", "primary", "a user's", "neither a user's nor a phantom"],
)
def test_the_database_refuses_a_phantom_that_could_answer_as_a_method(
    user: Any, state: dict[str, Any]
) -> None:
    values = {"phantom": "a" * 64, **{k: v for k, v in state.items() if k != "with_user"}}
    if state.get("with_user"):
        values["user"] = user
    with pytest.raises(IntegrityError), transaction.atomic():
        MFAMethod.objects.create(name="email", **values)


def test_a_phantom_belongs_to_no_user(db: None) -> None:
    step_1("nobody@example.com")
    assert MFAMethod.objects.for_user(None).count() == 0
    assert phantom_rows() == 1


def test_the_code_stored_for_a_decoy_lets_nobody_in(
    monkeypatch: pytest.MonkeyPatch, db: None
) -> None:
    from trench_mfa.state import crypto

    monkeypatch.setattr(crypto, "generate_numeric_code", lambda length: "123456")
    token = step_1("nobody@example.com").json()["ephemeral_token"]
    response = APIClient().post(CODE, {"ephemeral_token": token, "code": "123456"})
    assert_error(response, 401, "invalid_code")
    assert MFAMethod.objects.get().failure_count == 1


def test_a_decoy_sends_no_signal(db: None) -> None:
    from trench_mfa import signals

    heard: list[str] = []

    def receiver(sender: Any, signal: Any, **kwargs: Any) -> None:
        heard.append(str(signal))

    watched = [signals.code_sent, signals.verification_failed, signals.locked_out]
    for signal in watched:
        signal.connect(receiver, dispatch_uid="decoy-test")
    try:
        token = step_1("nobody@example.com").json()["ephemeral_token"]
        APIClient().post(CODE, {"ephemeral_token": token, "code": "000000"})
    finally:
        for signal in watched:
            signal.disconnect(dispatch_uid="decoy-test")
    assert heard == []


def test_a_decoy_for_a_method_factor_backs_off_like_the_account(
    flows_config: Callable[..., Any],
    no_login_throttle: None,
    verified_user: Any,
    client_for: Callable[[Any], APIClient],
    time_machine: Any,
) -> None:
    from tests.support.app import activate_and_confirm_app

    flows_config(flows=[("email", "app")], THROTTLE_FACTOR=1)
    start = "2026-01-01 12:00:00+00:00"
    time_machine.move_to(start, tick=False)
    totp = activate_and_confirm_app(client_for(verified_user))
    near = {totp.at(time.time() + 30 * k) for k in range(-3, 4)}
    wrong = [c for c in ("000000", "111111", "222222", "333333") if c not in near]
    # Wrong app codes and a wrong backup code (its shape), inside and after the back-off.
    script = [(wrong[0], 0), (wrong[1], 0), ("ABCDEFGHJKMN", 1), (wrong[2], 0)]
    seen = []
    for address in (verified_user.email, "nobody@example.com"):
        time_machine.move_to(start, tick=False)
        body = step_1(address).json()
        token = body.pop("ephemeral_token")
        answers: list[Any] = [body]
        for code, wait in script:
            time_machine.shift(wait)
            response = APIClient().post(CODE, {"ephemeral_token": token, "code": code})
            answers.append((response.status_code, response.json()))
        seen.append(answers)
    assert seen[0] == seen[1]
    assert [a[1]["error_code"] for a in seen[0][1:]] == [
        "invalid_code",
        "throttled",
        "invalid_code",
        "throttled",
    ]

"""Concurrency on PostgreSQL, real threads, exact counts.

Rows already covered elsewhere (not repeated here):

- 20 parallel step-2 requests, same email code, same token:
  ``tests/integration/test_concurrent_logins_postgres.py::test_same_email_code_same_token``;
- 20 parallel requests, same backup code (different tokens):
  ``tests/integration/test_concurrent_logins_postgres.py::test_same_backup_code_many_tokens``;
- 20 parallel requests, same TOTP code: ``tests/app/test_concurrent_totp_logins_postgres.py``;
- 10 parallel resends, at most one provider call:
  ``tests/sms/test_races_postgres.py::test_ten_parallel_resends_make_one_provider_call``;
- 2 parallel confirms of a pending method:
  ``tests/integration/test_concurrent_logins_postgres.py::test_parallel_confirms_of_one_pending_method``.

The rows below are the missing ones. SQLite serialises writers and would
prove nothing, so they skip there.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
import time_machine
from django.core import mail
from rest_framework.authtoken.models import Token

from tests.conftest import EMAIL2, FLAVOURS, last_code
from tests.input_validation.conftest import Scene
from tests.support.app import SEEDS
from tests.support.races import post, race
from trench_mfa.models import BackupCode, CodePurpose, LoginChallenge, MFAMethod, OneTimeCode
from trench_mfa.state import backup_codes, codes
from trench_mfa.state.secrets_at_rest import encrypt_secret

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LOGIN = FLAVOURS[1].code  # authtoken flavour: a success is visible as a Token row
#: A protected action's answer to a wrong code: a field error of ``code``.
WRONG_ELSEWHERE = {"code": ["Code invalid or expired."]}


def _wrong_codes(right: str, count: int) -> list[str]:
    return [c for c in (f"{i:06d}" for i in range(1, count + 2)) if c != right][:count]


def test_fifty_parallel_wrong_codes_on_one_token_with_a_cap_of_5(
    scene: Scene, trench_auth: Callable[..., Any]
) -> None:
    # The back-off would refuse most of them unevaluated; switched off, the
    # caps themselves must hold: the token dies after exactly 5 wrong codes.
    trench_auth(THROTTLE_FACTOR=0, LOCKOUT_THRESHOLD=100)
    calls = [
        post(LOGIN, {"ephemeral_token": scene.token, "code": code})
        for code in _wrong_codes(scene.login_code, 50)
    ]
    results = Counter((status, body.get("error_code")) for status, body in race(calls))
    assert results == {(401, "invalid_code"): 5, (401, "invalid_token"): 45}, results
    assert LoginChallenge.objects.get().failed_attempts == 5
    live = OneTimeCode.objects.get(purpose=CodePurpose.LOGIN)
    assert live.attempts == 5
    assert MFAMethod.objects.get(name="email").failure_count == 5
    status, body = post(LOGIN, {"ephemeral_token": scene.token, "code": scene.login_code})()
    assert (status, body["error_code"]) == (401, "invalid_token")
    assert not Token.objects.exists()


def test_fifty_parallel_wrong_codes_on_one_action_code_with_a_cap_of_5(
    scene: Scene, trench_auth: Callable[..., Any]
) -> None:
    # No token guards a protected action: the code's own cap must be exact,
    # and every wrong answer is counted (no lost update).
    trench_auth(THROTTLE_FACTOR=0, LOCKOUT_THRESHOLD=100)
    calls = [
        post("/auth/email/codes/regenerate/", {"code": code}, user=scene.user)
        for code in _wrong_codes(scene.action_code, 50)
    ]
    # The answer is the code field's error (django-trench's shape); that every
    # one was evaluated, not refused as malformed, the counts below show.
    results = Counter((status, json.dumps(body)) for status, body in race(calls))
    assert results == {(400, json.dumps(WRONG_ELSEWHERE)): 50}, results
    assert OneTimeCode.objects.get(purpose=CodePurpose.ACTION).attempts == 5
    assert MFAMethod.objects.get(name="email").failure_count == 50
    status, body = post(
        "/auth/email/codes/regenerate/", {"code": scene.action_code}, user=scene.user
    )()
    assert (status, body) == (400, WRONG_ELSEWHERE)


def test_two_parallel_activations_of_the_same_method(
    scene: Scene, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email3": EMAIL2})
    for _ in range(8):
        MFAMethod.objects.filter(name="email3").delete()
        mail.outbox.clear()
        # Alice has MFA: each request brings its own backup code.
        fresh = backup_codes.replace_backup_codes(scene.user.pk)
        results = race(
            [post("/auth/email3/activate/", {"code": code}, user=scene.user) for code in fresh[:2]]
        )
        statuses = sorted(status for status, _ in results)
        assert statuses[0] == 200 and statuses[1] in (400, 409, 429), results
        assert MFAMethod.objects.filter(user=scene.user, name="email3").count() == 1
        assert len(mail.outbox) == 1
        # The code that was sent belongs to the row that exists.
        status, body = post(
            "/auth/email3/activate/confirm/", {"code": last_code()}, user=scene.user
        )()
        assert status == 200, body


def test_regenerate_while_an_old_backup_code_is_being_used(scene: Scene) -> None:
    email = MFAMethod.objects.get(name="email")
    for _ in range(5):
        old = backup_codes.replace_backup_codes(scene.user.pk)
        token = scene.login(FLAVOURS[1])
        action = codes.issue_code(email, CodePurpose.ACTION, validity=300)
        (login_status, _), (regen_status, regen) = race(
            [
                post(LOGIN, {"ephemeral_token": token, "code": old[0]}),
                post("/auth/email/codes/regenerate/", {"code": action}, user=scene.user),
            ]
        )
        assert login_status in (200, 401) and regen_status == 200, (login_status, regen)
        new = regen["backup_codes"]
        # Only the new set exists: no old code works, whatever won.
        assert BackupCode.objects.filter(user=scene.user).count() == len(new)
        assert not BackupCode.objects.filter(user=scene.user, used_at__isnull=False).exists()
        assert not any(backup_codes.use_backup_code(scene.user.pk, code) for code in old[1:3])
        assert backup_codes.use_backup_code(scene.user.pk, new[0])


def _with_app(scene: Scene) -> pyotp.TOTP:
    MFAMethod.objects.create(
        user=scene.user, name="app", is_active=True, secret=encrypt_secret(SEEDS["SHA1"])
    )
    return pyotp.TOTP(SEEDS["SHA1"])


def test_deactivate_while_step_2_is_in_flight(
    scene: Scene, trench_auth: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worst interleaving, forced: step 2 has accepted the token, then the
    # deactivation commits, then step 2 reads and locks the method rows and
    # checks the code. (Step 2 chooses the method under those locks, so a
    # deactivation can no longer slip in between choice and check.)
    trench_auth(CONFIRM_DISABLE_WITH_CODE=False)
    totp = _with_app(scene)
    chosen, deactivated = threading.Event(), threading.Event()
    from trench_mfa.state import tokens

    real = tokens.parse_token

    def slow_parse(token: str) -> Any:
        if not chosen.is_set():
            chosen.set()
            assert deactivated.wait(20)
        return real(token)

    def deactivate() -> tuple[int, dict[str, Any]]:
        assert chosen.wait(20)
        try:
            return post("/auth/app/deactivate/", {}, user=scene.user)()
        finally:
            deactivated.set()

    t0 = 1_800_000_015
    with time_machine.travel(t0, tick=False):
        token = scene.login(FLAVOURS[1])
        monkeypatch.setattr(tokens, "parse_token", slow_parse)
        body = {"ephemeral_token": token, "code": totp.at(t0), "method": "app"}
        (login_status, login_body), (off_status, _) = race([post(LOGIN, body), deactivate])
    assert off_status == 204
    assert not MFAMethod.objects.get(name="app").is_active
    assert (login_status, login_body.get("error_code")) == (401, "invalid_code"), login_body
    assert not Token.objects.exists()


def test_deactivate_and_step_2_released_together(
    scene: Scene, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(CONFIRM_DISABLE_WITH_CODE=False)
    totp = _with_app(scene)
    for round_ in range(5):
        MFAMethod.objects.filter(name="app").update(is_active=True)
        token = scene.login(FLAVOURS[1])
        when = 1_800_000_015 + 90 * round_
        with time_machine.travel(when, tick=False):
            body = {"ephemeral_token": token, "code": totp.at(when), "method": "app"}
            (login_status, _), (off_status, _) = race(
                [post(LOGIN, body), post("/auth/app/deactivate/", {}, user=scene.user)]
            )
        assert off_status == 204 and login_status in (200, 401)
        tokens_issued = Token.objects.count()
        # A success must have come first: its step was burned while active.
        if login_status == 200:
            assert tokens_issued == 1
        Token.objects.all().delete()


def test_parallel_set_primary_to_two_different_methods(
    scene: Scene, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email2": EMAIL2})
    MFAMethod.objects.filter(name="email2").update(is_active=True, activation_started_at=None)
    _with_app(scene)
    for _ in range(5):
        MFAMethod.objects.filter(user=scene.user).update(is_primary=False)
        MFAMethod.objects.filter(name="email").update(is_primary=True)
        spare = backup_codes.replace_backup_codes(scene.user.pk)
        results = race(
            [
                post(
                    "/auth/mfa/change-primary-method/",
                    {"method": target, "code": spare[i]},
                    user=scene.user,
                )
                for i, target in enumerate(("email2", "app"))
            ]
        )
        assert all(status in (204, 400) for status, _ in results), results
        assert any(status == 204 for status, _ in results), results
        primaries = MFAMethod.objects.filter(user=scene.user, is_primary=True)
        assert primaries.count() == 1
        assert primaries.get().is_active and primaries.get().name in ("email2", "app")

"""Concurrency on PostgreSQL: real threads, real connections, one winner.

Each test starts its threads behind a ``threading.Barrier`` so the requests
hit the database together, and every thread closes its own connection. They
run in the ``TEST_DATABASE_URL`` leg and skip on SQLite, whose single writer
would serialise the requests and prove nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, FLAVOURS, credentials, last_code
from tests.support.races import LOGIN_RACE_MARKS, race
from tests.support.races import post as races_post
from tests.support.races import post_status as post
from trench_mfa.models import BackupCode, LoginChallenge, MFAMethod
from trench_mfa.services import methods

pytestmark = LOGIN_RACE_MARKS

THREADS = 20


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
def test_same_email_code_same_token(
    email_mfa_user: tuple[Any, list[str]], flavour: Any, user: Any
) -> None:
    body = APIClient().post(flavour.login, credentials(user)).json()
    payload = {"ephemeral_token": body["ephemeral_token"], "code": last_code()}
    statuses = race([post(flavour.code, payload)] * THREADS)
    assert Counter(statuses) == {200: 1, 401: THREADS - 1}
    assert LoginChallenge.objects.get().used_at is not None


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
def test_same_backup_code_many_tokens(
    email_mfa_user: tuple[Any, list[str]], flavour: Any, user: Any
) -> None:
    _, backup = email_mfa_user
    client = APIClient()
    tokens = [
        client.post(flavour.login, credentials(user)).json()["ephemeral_token"]
        for _ in range(THREADS)
    ]
    assert len(set(tokens)) == THREADS
    statuses = race([post(flavour.code, {"ephemeral_token": t, "code": backup[0]}) for t in tokens])
    assert Counter(statuses) == {200: 1, 401: THREADS - 1}
    assert BackupCode.objects.filter(user=user, used_at__isnull=False).count() == 1
    assert BackupCode.objects.filter(user=user, used_at__isnull=True).count() == 9


def test_parallel_confirms_of_one_pending_method(user: Any, client_for: Any) -> None:
    client = client_for(user)
    assert client.post("/auth/email/activate/").status_code == 200
    code = last_code()
    statuses = race([post("/auth/email/activate/confirm/", {"code": code}, client_for(user))] * 2)
    assert sorted(statuses) == [200, 400]
    assert MFAMethod.objects.filter(user=user, is_active=True).count() == 1
    assert MFAMethod.objects.filter(user=user, is_primary=True).count() == 1
    assert BackupCode.objects.filter(user=user).count() == 10


def test_parallel_confirms_of_two_methods(
    user: Any, client_for: Any, trench_auth: Callable[..., Any]
) -> None:
    # Both were started while MFA was off. The first confirmation turns MFA
    # on, and the other activation, never checked against a factor, must
    # start over with a code of it: exactly one method is active.
    trench_auth(methods={"email2": EMAIL2})
    client = client_for(user)
    codes = {}
    for name in ("email", "email2"):
        assert client.post(f"/auth/{name}/activate/").status_code == 200
        codes[name] = last_code()
    calls = [
        races_post(f"/auth/{name}/activate/confirm/", {"code": codes[name]}, user=user)
        for name in ("email", "email2")
    ]
    results = race(calls)
    assert sorted(status for status, _ in results) == [200, 400]
    assert [len(body["backup_codes"]) for status, body in results if status == 200] == [10]
    # django-trench's answer: a field error of the code.
    assert [body for status, body in results if status == 400] == [
        {"code": ["Code invalid or expired."]}
    ]
    assert MFAMethod.objects.filter(user=user, is_active=True).count() == 1
    assert MFAMethod.objects.filter(user=user, is_primary=True).count() == 1
    assert BackupCode.objects.filter(user=user).count() == 10


@pytest.mark.parametrize("round_", range(3))
def test_activation_without_a_code_racing_the_first_confirmation(
    user: Any, client_for: Any, trench_auth: Callable[..., Any], round_: int
) -> None:
    # MFA is off when both requests start: the activation of email2 needs no
    # code yet, the confirmation of email turns MFA on. In either order,
    # email2 never becomes active without a code of email.
    trench_auth(methods={"email2": EMAIL2})
    assert client_for(user).post("/auth/email/activate/").status_code == 200
    code = last_code()
    mail.outbox.clear()
    confirm, activation = race(
        [
            races_post("/auth/email/activate/confirm/", {"code": code}, user=user),
            races_post("/auth/email2/activate/", {}, user=user),
        ]
    )
    assert confirm[0] == 200 and len(confirm[1]["backup_codes"]) == 10
    if activation[0] == 400:  # the confirmation committed first
        assert activation[1]["error_code"] == "otp_code_missing"
        assert not MFAMethod.objects.filter(user=user, name="email2").exists()
    else:  # the activation committed first and was voided by the confirmation
        assert activation[0] == 200
        response = client_for(user).post("/auth/email2/activate/confirm/", {"code": last_code()})
        assert response.status_code == 400
        assert response.json() == {"code": ["Code invalid or expired."]}
    assert list(
        MFAMethod.objects.filter(user=user, is_active=True).values_list("name", flat=True)
    ) == ["email"]


def test_an_activation_checked_while_mfa_was_off_is_refused_once_it_is_on(
    user: Any, client_for: Any, trench_auth: Callable[..., Any], monkeypatch: Any
) -> None:
    # The other order, forced: the activation finds MFA off (no code
    # needed), then the first confirmation commits, then the activation
    # takes the user lock and must see MFA on.
    trench_auth(methods={"email2": EMAIL2})
    assert client_for(user).post("/auth/email/activate/").status_code == 200
    code = last_code()
    checked, confirmed = threading.Event(), threading.Event()
    real = methods._check_existing_factor

    def paused(*args: Any, **kwargs: Any) -> bool:
        found = real(*args, **kwargs)
        checked.set()
        assert confirmed.wait(timeout=30)
        return found

    monkeypatch.setattr(methods, "_check_existing_factor", paused)

    def confirm_in_between() -> tuple[int, dict[str, Any]]:
        assert checked.wait(timeout=30)
        try:
            return races_post("/auth/email/activate/confirm/", {"code": code}, user=user)()
        finally:
            confirmed.set()

    activation, confirm = race(
        [races_post("/auth/email2/activate/", {}, user=user), confirm_in_between]
    )
    assert confirm[0] == 200
    assert activation == (
        400,
        {"error": "OTP code not provided.", "error_code": "otp_code_missing"},
    )
    assert not MFAMethod.objects.filter(user=user, name="email2").exists()


def test_backup_code_shared_between_login_and_protected_action(
    email_mfa_user: tuple[Any, list[str]], user: Any, client_for: Any
) -> None:
    _, backup = email_mfa_user
    flavour = FLAVOURS[0]
    client = APIClient()
    tokens = [
        client.post(flavour.login, credentials(user)).json()["ephemeral_token"]
        for _ in range(THREADS // 2)
    ]
    calls = [post(flavour.code, {"ephemeral_token": t, "code": backup[0]}) for t in tokens]
    calls += [
        post("/auth/email/codes/regenerate/", {"code": backup[0]}, client_for(user))
        for _ in range(THREADS // 2)
    ]
    statuses = race(calls)
    # One winner across both paths; login losers get 401, action losers 400.
    assert sum(s == 200 for s in statuses) == 1
    assert set(statuses[: THREADS // 2]) <= {200, 401}
    assert set(statuses[THREADS // 2 :]) <= {200, 400}


def test_same_action_code_parallel_protected_actions(
    email_mfa_user: tuple[Any, list[str]], user: Any, client_for: Any
) -> None:
    # No token guards this path: only the code's conditional UPDATE does.
    assert client_for(user).post("/auth/code/request/").status_code == 200
    code = last_code()
    statuses = race(
        [post("/auth/email/codes/regenerate/", {"code": code}, client_for(user))] * THREADS
    )
    assert Counter(statuses) == {200: 1, 400: THREADS - 1}
    assert BackupCode.objects.filter(user=user).count() == 10

"""Concurrency on PostgreSQL: real threads, real connections, one winner.

Each test starts its threads behind a ``threading.Barrier`` so the requests
hit the database together, and every thread closes its own connection. They
run in the ``TEST_DATABASE_URL`` leg and skip on SQLite, whose single writer
would serialise the requests and prove nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, FLAVOURS, credentials, last_code
from tests.races import race
from trench_mfa.models import BackupCode, LoginChallenge, MFAMethod

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    # Many logins of one user within a minute: over the demo's login rate.
    pytest.mark.usefixtures("no_login_throttle"),
]

THREADS = 20


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")


def post(path: str, body: dict[str, Any], client: APIClient | None = None) -> Callable[[], int]:
    """A call that POSTs ``body`` with a fresh client and returns the status."""

    def call() -> int:
        return (client or APIClient()).post(path, body).status_code

    return call


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
    # Both look like "the first method": the user lock lets only one issue a set.
    trench_auth(methods={"email2": EMAIL2})
    client = client_for(user)
    codes = {}
    for name in ("email", "email2"):
        assert client.post(f"/auth/{name}/activate/").status_code == 200
        codes[name] = last_code()
    results: list[Any] = []

    def confirm(name: str) -> Callable[[], int]:
        def call() -> int:
            response = client_for(user).post(
                f"/auth/{name}/activate/confirm/", {"code": codes[name]}
            )
            results.append(response.json())
            return response.status_code

        return call

    assert race([confirm("email"), confirm("email2")]) == [200, 200]
    sets = sorted(len(r["backup_codes"]) for r in results)
    assert sets == [0, 10]
    assert MFAMethod.objects.filter(user=user, is_active=True).count() == 2
    assert MFAMethod.objects.filter(user=user, is_primary=True).count() == 1
    assert BackupCode.objects.filter(user=user).count() == 10


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

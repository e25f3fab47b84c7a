"""A password-only login racing the confirmation that turns MFA on, on PostgreSQL.

The confirmation is held inside its transaction, right after it deleted the
user's authtoken key; the login, which read "MFA off" meanwhile, must wait
for that transaction (the user row's lock) and then issue no key.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import assert_error, credentials, last_code
from trench_mfa.state import authtokens

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

#: Generous: only a hung thread ever waits this long.
HANG = 60


def test_a_login_that_read_mfa_off_waits_for_the_confirmation_and_gets_no_key(
    user: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    confirming = client_for(user)
    assert confirming.post("/auth/email/activate/").status_code == 200
    code = last_code()
    inside = threading.Event()  # the confirmation has deleted the key, not committed
    release = threading.Event()  # let the confirmation commit
    login_arrived = threading.Event()  # the login is at the lock, or done without one
    delete_key, lock_user = authtokens.delete_key, authtokens.lock_user

    def held_delete(user_id: Any) -> None:
        delete_key(user_id)
        inside.set()
        assert release.wait(HANG)

    def arriving_lock(user_id: Any) -> None:
        login_arrived.set()
        lock_user(user_id)

    monkeypatch.setattr(authtokens, "delete_key", held_delete)
    monkeypatch.setattr(authtokens, "lock_user", arriving_lock)
    answers: dict[str, Any] = {}

    def confirm() -> None:
        from django.db import connection

        try:
            answers["confirm"] = confirming.post("/auth/email/activate/confirm/", {"code": code})
        finally:
            connection.close()

    def log_in() -> None:
        from django.db import connection

        try:
            answers["login"] = APIClient().post("/auth/token/login/", credentials(user))
        finally:
            login_arrived.set()
            connection.close()

    confirmation = threading.Thread(target=confirm)
    confirmation.start()
    assert inside.wait(HANG)
    login = threading.Thread(target=log_in)
    login.start()
    assert login_arrived.wait(HANG)
    release.set()
    for thread in (confirmation, login):
        thread.join(HANG)
        assert not thread.is_alive()
    assert answers["confirm"].status_code == 200, answers["confirm"].content
    assert_error(answers["login"], 400, "unauthenticated")
    assert not Token.objects.filter(user=user).exists()

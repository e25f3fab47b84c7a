"""Parallel WebAuthn answers (PostgreSQL only): one signed answer logs in once.

SQLite serialises writers and would hide a lost update; here real threads,
each with its own database connection, send the same answer at the same
moment. The challenge's single use and the signature counter are
conditional ``UPDATE``s, so exactly one request wins.
"""

from __future__ import annotations

from typing import Any

from tests.support.races import LOGIN_RACE_MARKS, post, race
from tests.webauthn.conftest import KeyUser, login_step_one
from trench_mfa.models import WebAuthnCredential

pytestmark = LOGIN_RACE_MARKS

THREADS = 10


def test_the_same_passkey_answer_sent_ten_times_logs_in_once(
    key_user: KeyUser, anon_client: Any
) -> None:
    begun = anon_client.post("/auth/jwt/passkey/begin/").json()
    answer = key_user.key.get(begun["options"])
    body = {"ephemeral_token": begun["ephemeral_token"], "credential": answer}
    results = race([post("/auth/jwt/passkey/", body) for _ in range(THREADS)])
    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401}
    assert WebAuthnCredential.objects.get().sign_count == 1


def test_one_answer_for_two_parallel_logins_of_one_user_passes_once(
    key_user: KeyUser, anon_client: Any
) -> None:
    from tests.conftest import FLAVOURS

    body = login_step_one(anon_client, FLAVOURS[0], key_user.user)
    answer = key_user.key.get(body["options"])
    request = {"ephemeral_token": body["ephemeral_token"], "credential": answer}
    results = race([post("/auth/jwt/login/code/", request) for _ in range(THREADS)])
    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == 1, statuses

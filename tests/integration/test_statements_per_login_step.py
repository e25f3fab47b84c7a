"""Statements per login step: at most 4 (issue #8), on SQLite and on PostgreSQL.

Counted with ``CaptureQueriesContext`` the way ``bench/`` counts them: the
transaction markers Django logs around ``atomic()`` (``BEGIN``, ``COMMIT``,
savepoints) are not statements of the login and are counted apart. The
JWT flavour only: the authtoken flavour adds DRF's own ``Token`` lookup.
On PostgreSQL the writes a step collects (method row, challenge, audit row:
``trench_mfa.state.step_writes``) go out as one statement.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, activate, credentials, last_code
from tests.support.app import SEEDS
from trench_mfa.models import BackupCode, MFAMethod
from trench_mfa.state import backup_codes
from trench_mfa.state.secrets_at_rest import encrypt_secret

pytestmark = pytest.mark.django_db(transaction=True)

JWT = FLAVOURS[0]
_MARKERS = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def on_database(*, sqlite: int, postgresql: int) -> int:
    """The count expected on the database under test."""
    return postgresql if connection.vendor == "postgresql" else sqlite


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The captured SQL without transaction markers."""
    return [
        q["sql"] for q in captured.captured_queries if not q["sql"].lstrip().startswith(_MARKERS)
    ]


@pytest.fixture
def app_user(user: Any, api_client: APIClient) -> tuple[Any, list[str]]:
    """``user`` with the app method active and primary (and its backup codes)."""
    codes = activate(api_client, "email")
    MFAMethod.objects.filter(user=user).update(is_primary=False)
    MFAMethod.objects.create(
        user=user, name="app", secret=encrypt_secret(SEEDS["SHA1"]), is_active=True, is_primary=True
    )
    return user, codes


def step_one(client: APIClient, user: Any) -> str:
    """Login step 1 (statements not counted); the ephemeral token."""
    response = client.post(JWT.login, credentials(user))
    assert response.status_code == 200, response.content
    return str(response.json()["ephemeral_token"])


def answer(client: APIClient, token: str, code: str) -> tuple[int, list[str]]:
    """Login step 2 with ``code``: (status, statements)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.post(JWT.code, {"ephemeral_token": token, "code": code})
    return response.status_code, statements(captured)


def test_step_one_runs_three_statements(app_user: tuple[Any, list[str]]) -> None:
    user, _ = app_user
    client = APIClient()
    with CaptureQueriesContext(connection) as captured:
        response = client.post(JWT.login, credentials(user))
    assert response.status_code == 200
    assert len(statements(captured)) == 3, statements(captured)


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
def test_totp_step_two_runs_four_statements(app_user: tuple[Any, list[str]], right: bool) -> None:
    user, _ = app_user
    client = APIClient()
    code = pyotp.TOTP(SEEDS["SHA1"]).now()
    if not right:
        code = f"{(int(code) + 1) % 10**6:06d}"
    status, sql = answer(client, step_one(client, user), code)
    assert status == (200 if right else 401)
    # A right code: the read, then the method row, the challenge and the audit
    # row together; a wrong one counts at once (method row, challenge).
    assert len(sql) == on_database(sqlite=4, postgresql=2 if right else 4), sql
    if right and connection.vendor == "postgresql":
        assert sql[1].startswith("WITH "), sql


@pytest.mark.parametrize("right", [True, False], ids=["right", "wrong"])
def test_backup_code_step_two_runs_four_statements(
    app_user: tuple[Any, list[str]], right: bool
) -> None:
    user, codes = app_user
    client = APIClient()
    code = codes[0] if right else "abcd2345efgh"
    assert backup_codes.is_well_formed(code)
    status, sql = answer(client, step_one(client, user), code)
    assert status == (200 if right else 401)
    # A right backup code: the read, the code's own UPDATE, then the
    # challenge and the audit row (together on PostgreSQL).
    assert len(sql) == on_database(sqlite=4, postgresql=3 if right else 4), sql
    # The backup code was read with the challenge, in the first statement.
    assert not any(s.startswith("SELECT") for s in sql[1:]), sql
    assert BackupCode.objects.filter(user=user, used_at__isnull=False).count() == int(right)


def test_email_step_two_statements(email_mfa_user: tuple[Any, list[str]]) -> None:
    user, _ = email_mfa_user
    client = APIClient()
    token = step_one(client, user)
    status, sql = answer(client, token, last_code())
    assert status == 200
    # The email code is a row of its own: its conditional UPDATE is one
    # statement more than the app's (whose replay guard rides on the method
    # row's UPDATE); the method row still records last_used_at.
    assert len(sql) == on_database(sqlite=5, postgresql=3), sql
    assert sql[1].startswith('UPDATE "trench_mfa_onetimecode"'), sql


def test_step_two_read_locks_the_method_rows_on_postgresql(
    app_user: tuple[Any, list[str]],
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks exist on PostgreSQL only")
    user, _ = app_user
    client = APIClient()
    _, sql = answer(client, step_one(client, user), pyotp.TOTP(SEEDS["SHA1"]).now())
    # The method rows (alias m of trench_mfa.state.challenge_read's statement).
    assert sql[0].rstrip().endswith("FOR NO KEY UPDATE OF m"), sql[0]

"""A database connection lost in the middle of an MFA request answers 503, not a 500 page.

The connection error is forced where login step 2 reads its challenge (the
real loss, a terminated PostgreSQL session between two servers, is in
``tests/cluster``). Other database errors are bugs and stay 500s.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, InterfaceError, OperationalError
from rest_framework.test import APIClient

from tests.conftest import ActivatedUser, credentials, last_code
from trench_mfa.models import LoginChallenge
from trench_mfa.state import tokens

pytestmark = pytest.mark.django_db


def _step_two(user: Any) -> tuple[APIClient, dict[str, str]]:
    client = APIClient()
    response = client.post("/auth/jwt/login/", credentials(user))
    assert response.status_code == 200, response.content
    return client, {"ephemeral_token": response.json()["ephemeral_token"], "code": last_code()}


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_lost_connection_is_a_503_that_says_retrying_is_safe(
    error: type[Exception], email_mfa_user: ActivatedUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = email_mfa_user[0]
    client, body = _step_two(user)

    def lost(*args: Any, **kwargs: Any) -> Any:
        raise error("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(tokens, "resolve_locked", lost)
        response = client.post("/auth/jwt/login/code/", body)
    assert response.status_code == 503
    assert response.json() == {
        "error": "The service is temporarily unavailable. Please try again later.",
        "error_code": "service_unavailable",
    }
    # Nothing was used up: the same answer succeeds once the database is back.
    assert LoginChallenge.objects.get(user=user).used_at is None
    assert set(client.post("/auth/jwt/login/code/", body).json()) == {"access", "refresh"}


def test_other_database_errors_stay_server_errors(
    email_mfa_user: ActivatedUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, body = _step_two(email_mfa_user[0])
    client.raise_request_exception = False

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise IntegrityError("a bug, not an outage")

    monkeypatch.setattr(tokens, "resolve_locked", broken)
    assert client.post("/auth/jwt/login/code/", body).status_code == 500

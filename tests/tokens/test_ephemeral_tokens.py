"""Ephemeral login tokens: single use, expiry, tampering, user state, attempt cap."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import signing
from rest_framework.test import APIClient

from tests.conftest import (
    FLAVOURS,
    PASSWORD,
    ActivatedUser,
    Flavour,
    assert_error,
    credentials,
    last_code,
    start_login,
)
from tests.support.tokens import TAMPER_KINDS, tamper
from trench_mfa.models import LoginChallenge
from trench_mfa.state import tokens

pytestmark = pytest.mark.django_db


def step2(client: APIClient, flavour: Flavour, token: str, code: str) -> Any:
    """Post login step 2."""
    return client.post(flavour.code, {"ephemeral_token": token, "code": code})


def test_token_is_single_use(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    _, backup = email_mfa_user
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    assert step2(anon_client, flavour, token, last_code()).status_code == 200
    # Neither another valid factor nor a resend works with a used token.
    assert_error(step2(anon_client, flavour, token, backup[0]), 401, "invalid_token")
    response = anon_client.post(flavour.resend, {"ephemeral_token": token})
    assert_error(response, 401, "invalid_token")


@pytest.mark.parametrize(("elapsed", "status"), [(599, 200), (601, 401)])
def test_token_expires_after_ephemeral_token_validity(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    flavour: Flavour,
    user: Any,
    time_machine: Any,
    elapsed: int,
    status: int,
) -> None:
    _, backup = email_mfa_user
    time_machine.move_to(datetime(2026, 2, 1, 9, 0, tzinfo=UTC), tick=False)
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    time_machine.shift(timedelta(seconds=elapsed))
    # A backup code does not expire, so only the token's lifetime is measured.
    response = step2(anon_client, flavour, token, backup[0])
    if status == 200:
        assert response.status_code == 200
    else:
        assert_error(response, 401, "invalid_token")


def test_token_validity_setting_is_honoured(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    user: Any,
    time_machine: Any,
    trench_auth: Callable[..., Any],
) -> None:
    _, backup = email_mfa_user
    trench_auth(EPHEMERAL_TOKEN_VALIDITY=60)
    flavour = FLAVOURS[0]
    time_machine.move_to(datetime(2026, 2, 1, 9, 0, tzinfo=UTC), tick=False)
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    time_machine.shift(timedelta(seconds=61))
    assert_error(step2(anon_client, flavour, token, backup[0]), 401, "invalid_token")


@pytest.mark.parametrize("how", TAMPER_KINDS)
def test_tampered_token_is_invalid(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    flavour: Flavour,
    user: Any,
    how: str,
) -> None:
    _, backup = email_mfa_user
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    other = start_login(anon_client, flavour, user)["ephemeral_token"]
    bad = tamper(token, how, other)
    assert bad != token
    assert_error(step2(anon_client, flavour, bad, backup[0]), 401, "invalid_token")
    response = anon_client.post(flavour.resend, {"ephemeral_token": bad})
    assert_error(response, 401, "invalid_token")


def test_token_dies_when_the_password_changes(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    _, backup = email_mfa_user
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    user.set_password("another-long-password-2026")
    user.save()
    assert_error(step2(anon_client, flavour, token, backup[0]), 401, "invalid_token")


def test_token_dies_when_the_user_is_deactivated(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    code = last_code()
    user.is_active = False
    user.save()
    assert_error(step2(anon_client, flavour, token, code), 401, "invalid_token")


def test_token_dies_after_max_code_attempts(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    _, backup = email_mfa_user
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert_error(step2(anon_client, flavour, token, wrong), 401, "invalid_code")
    assert LoginChallenge.objects.get().failed_attempts == 5
    assert_error(step2(anon_client, flavour, token, code), 401, "invalid_token")
    assert_error(step2(anon_client, flavour, token, backup[0]), 401, "invalid_token")


def test_fewer_wrong_codes_than_the_cap_leave_the_token_alive(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    _, backup = email_mfa_user
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    for _ in range(4):
        assert_error(step2(anon_client, flavour, token, "zzzzzzzzzzzz"), 401, "invalid_code")
    assert step2(anon_client, flavour, token, backup[0]).status_code == 200


def test_access_and_auth_tokens_are_not_ephemeral_tokens(
    email_mfa_user: ActivatedUser, anon_client: APIClient, user: Any
) -> None:
    _, backup = email_mfa_user
    jwt, authtoken = FLAVOURS
    # Get real tokens of each kind.
    issued = []
    for flavour in (jwt, authtoken):
        token = start_login(anon_client, flavour, user)["ephemeral_token"]
        body = step2(anon_client, flavour, token, last_code()).json()
        issued.extend(body.values())
    assert len(issued) == 3  # refresh, access, auth_token
    for flavour in FLAVOURS:
        start_login(anon_client, flavour, user)
        for value in issued:
            response = step2(anon_client, flavour, value, backup[1])
            assert_error(response, 401, "invalid_token")


def test_ephemeral_token_is_no_bearer_token(
    email_mfa_user: ActivatedUser, anon_client: APIClient, user: Any
) -> None:
    token = start_login(anon_client, FLAVOURS[0], user)["ephemeral_token"]
    for scheme in ("Bearer", "Token"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
        assert client.get("/auth/mfa/user-active-methods/").status_code == 401
        assert client.post("/auth/code/request/").status_code == 401


def test_issued_tokens_belong_to_the_challenged_user(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    user_factory: Callable[..., Any],
    flavour: Flavour,
    user: Any,
) -> None:
    user_factory(username="bob")
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    response = step2(anon_client, flavour, token, last_code())
    body = response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=flavour.authorization(body))
    # The issued tokens are alice's: the list shows her methods.
    assert client.get("/auth/mfa/user-active-methods/").json() == [
        {"name": "email", "is_primary": True}
    ]


def test_tokens_are_random_and_long(user: Any) -> None:
    first, _ = tokens.issue_token(user, "email")
    second, _ = tokens.issue_token(user, "email")
    assert first != second
    secret = signing.Signer(salt=tokens._SALT, algorithm="sha256").unsign(first).partition(".")[2]
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    assert len(raw) >= 16
    # Only a hash of the secret is stored.
    row = LoginChallenge.objects.order_by("pk").first()
    assert row is not None and secret not in row.secret_hash


def test_password_is_never_echoed(user: Any, anon_client: APIClient, flavour: Flavour) -> None:
    response = anon_client.post(flavour.login, credentials(user))
    assert PASSWORD not in response.content.decode()

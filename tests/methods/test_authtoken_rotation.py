"""Turning MFA on replaces the user's DRF authtoken key (``ROTATE_AUTHTOKEN_ON_ENABLE``).

A key from a login that checked only the password stops working once the
first method is confirmed; the client that confirmed with that key gets the
new one in the answer. Turning MFA off again keeps the key.
"""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.conftest import activate, assert_error, credentials, last_code

pytestmark = pytest.mark.django_db

ME = "/auth/mfa/user-active-methods/"


def key_client(key: str) -> APIClient:
    """A client authenticated only by ``Authorization: Token <key>``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def password_login_key(user: Any) -> str:
    """The key of an authtoken login while MFA is off (the password only)."""
    response = APIClient().post("/auth/token/login/", credentials(user))
    assert response.status_code == 200, response.content
    return str(response.json()["auth_token"])


def mfa_login_key(user: Any) -> str:
    """The key of an authtoken login with the email code."""
    anon = APIClient()
    step1 = anon.post("/auth/token/login/", credentials(user)).json()
    body = {"ephemeral_token": step1["ephemeral_token"], "code": last_code()}
    response = anon.post("/auth/token/login/code/", body)
    assert response.status_code == 200, response.content
    return str(response.json()["auth_token"])


def confirm_email(client: APIClient) -> dict[str, Any]:
    """Activate and confirm the email method with ``client``; the confirmation's body."""
    assert client.post("/auth/email/activate/").status_code == 200
    response = client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def test_enabling_mfa_refuses_the_key_of_a_password_only_login(user: Any) -> None:
    old = password_login_key(user)
    body = confirm_email(key_client(old))
    assert len(body["backup_codes"]) == 10
    new = body["auth_token"]
    assert new and new != old
    assert_unauthorized(key_client(old).get(ME))
    # The key in the answer works, and is the one an MFA login now gets.
    assert key_client(new).get(ME).json() == [{"name": "email", "is_primary": True}]
    assert mfa_login_key(user) == new


def test_every_holder_of_the_old_key_is_logged_out(user: Any, api_client: APIClient) -> None:
    old = password_login_key(user)
    # Confirmed through another authentication (a session, a JWT): the old
    # key dies all the same, and the answer has no key to hand out.
    body = confirm_email(api_client)
    assert "auth_token" not in body
    assert_unauthorized(key_client(old).get(ME))
    new = mfa_login_key(user)
    assert new != old
    assert key_client(new).get(ME).status_code == 200


def test_without_rotation_the_old_key_keeps_working(
    user: Any, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(ROTATE_AUTHTOKEN_ON_ENABLE=False)
    old = password_login_key(user)
    body = confirm_email(key_client(old))
    assert "auth_token" not in body
    assert key_client(old).get(ME).status_code == 200
    assert mfa_login_key(user) == old


def test_adding_a_second_method_keeps_the_key(user: Any, trench_auth: Callable[..., Any]) -> None:
    trench_auth(
        methods={
            "email2": {
                "HANDLER": "trench_mfa.backends.email.EmailMessageDispatcher",
                "SOURCE_FIELD": "email",
            }
        },
        RESEND_COOLDOWN=0,
    )
    key = confirm_email(key_client(password_login_key(user)))["auth_token"]
    client = key_client(key)
    assert client.post("/auth/code/request/").status_code == 200
    assert client.post("/auth/email2/activate/", {"code": last_code()}).status_code == 200
    response = client.post("/auth/email2/activate/confirm/", {"code": last_code()})
    assert response.json() == {"backup_codes": []}
    assert client.get(ME).status_code == 200


def test_turning_mfa_off_keeps_the_key(user: Any) -> None:
    key = confirm_email(key_client(password_login_key(user)))["auth_token"]
    client = key_client(key)
    assert client.post("/auth/code/request/").status_code == 200
    assert client.post("/auth/email/deactivate/", {"code": last_code()}).status_code == 204
    assert client.get(ME).json() == []
    assert password_login_key(user) == key


def test_a_support_reset_keeps_the_key(user: Any, api_client: APIClient) -> None:
    activate(api_client)
    key = mfa_login_key(user)
    call_command("mfa_disable", user.get_username(), stdout=StringIO())
    assert key_client(key).get(ME).json() == []


def test_a_login_without_a_code_never_hands_out_a_key_once_mfa_is_on(
    user: Any, api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The login checks the password and finds MFA off; the first method is
    # confirmed before it issues the key (forced here by running the
    # confirmation at that very point).
    from trench_mfa.state import authtokens

    issue = authtokens.login_key

    def confirm_first(target: Any, *, code_verified: bool) -> str | None:
        confirm_email(api_client)
        return issue(target, code_verified=code_verified)

    monkeypatch.setattr(authtokens, "login_key", confirm_first)
    response = APIClient().post("/auth/token/login/", credentials(user))
    assert_error(response, 400, "unauthenticated")
    monkeypatch.undo()
    assert "ephemeral_token" in APIClient().post("/auth/token/login/", credentials(user)).json()


def assert_unauthorized(response: Any) -> None:
    """DRF's answer to an unknown key."""
    assert response.status_code == 401, response.content
    assert response.json() == {"detail": "Invalid token."}

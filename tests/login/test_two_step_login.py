"""Two-step login in both flavours (``urls.jwt`` and ``urls.authtoken``), and logout."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import (
    EMAIL2,
    FLAVOURS,
    PASSWORD,
    ActivatedUser,
    Flavour,
    assert_error,
    assert_field_error,
    credentials,
    last_code,
    login_body,
    start_login,
    username_field,
)
from trench_mfa.models import LoginChallenge, MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db

FLAVOUR_TOKEN = FLAVOURS[1]


def challenge(client: APIClient, flavour: Flavour, user: Any) -> str:
    """Login step 1 for ``user``; the ephemeral token of the challenge."""
    token: str = start_login(client, flavour, user)["ephemeral_token"]
    return token


def step2(client: APIClient, flavour: Flavour, token: str, code: str) -> Any:
    """Login step 2 with ``token`` and ``code`` (no method named)."""
    return client.post(flavour.code, {"ephemeral_token": token, "code": code})


def wrong(code: str) -> str:
    """A well-formed code different from ``code``."""
    return "000000" if code != "000000" else "111111"


# --- step 1 ---------------------------------------------------------------------------


def test_login_without_mfa_returns_tokens(
    user: Any, anon_client: APIClient, flavour: Flavour
) -> None:
    body = start_login(anon_client, flavour, user)
    assert set(body) == flavour.token_keys
    anon_client.credentials(HTTP_AUTHORIZATION=flavour.authorization(body))
    assert anon_client.get("/auth/mfa/user-active-methods/").status_code == 200
    assert mail.outbox == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"login": "alice"},
        {"password": PASSWORD},
        {"login": "", "password": PASSWORD},
        {"login": "alice", "password": ""},
    ],
)
def test_login_missing_or_blank_fields(
    user: Any, anon_client: APIClient, flavour: Flavour, body: dict[str, str]
) -> None:
    # "login" stands for the user model's USERNAME_FIELD, "alice" for her login.
    names = {"login": username_field()}
    values = {"alice": user.get_username()}
    body = {names.get(key, key): values.get(value, value) for key, value in body.items()}
    response = anon_client.post(flavour.login, body)
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) <= {username_field(), "password"} and errors
    assert all(isinstance(v, list) for v in errors.values())


@pytest.mark.parametrize("case", ["wrong_password", "unknown_user", "inactive_user"])
def test_login_failures_look_the_same(
    user: Any, anon_client: APIClient, flavour: Flavour, case: str
) -> None:
    login, password = user.get_username(), PASSWORD
    if case == "wrong_password":
        password = "not-the-password"
    elif case == "unknown_user":
        login = "mallory@example.com"
    else:
        user.is_active = False
        user.save()
    response = anon_client.post(flavour.login, login_body(login, password))
    assert_error(response, 400, "unauthenticated")
    assert set(response.json()) == {"error", "error_code"}


def test_login_with_mfa_returns_a_challenge(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    response = anon_client.post(flavour.login, credentials(user))
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = response.json()
    assert set(body) == {"ephemeral_token", "method", "other_methods", "factors_remaining"}
    assert body["method"] == "email"
    assert body["other_methods"] == [] and body["factors_remaining"] == []
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.com"]
    code = last_code()
    assert code not in response.content.decode()


def test_other_methods_lists_the_remaining_active_methods(
    two_email_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    body = start_login(anon_client, flavour, user)
    assert (body["method"], body["other_methods"]) == ("email", ["email2"])
    # Only the primary method got a code.
    live = OneTimeCode.objects.filter(consumed_at__isnull=True, purpose="login")
    assert [c.method.name for c in live] == ["email"]


def test_unconfigured_method_fails_closed(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    flavour: Flavour,
    user: Any,
    trench_auth: Callable[..., Any],
) -> None:
    trench_auth(replace_methods={"email2": EMAIL2})
    response = anon_client.post(flavour.login, credentials(user))
    assert_error(response, 400, "mfa_method_does_not_exist")
    assert not set(response.json()) & {"access", "refresh", "auth_token"}
    assert not Token.objects.exists()


# --- step 2 ---------------------------------------------------------------------------


def test_right_code_returns_tokens_and_kills_the_token(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token = challenge(anon_client, flavour, user)
    code = last_code()
    response = step2(anon_client, flavour, token, code)
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    body = response.json()
    assert set(body) == flavour.token_keys
    authed = APIClient()
    authed.credentials(HTTP_AUTHORIZATION=flavour.authorization(body))
    assert authed.get("/auth/mfa/user-active-methods/").status_code == 200
    again = step2(anon_client, flavour, token, code)
    assert_error(again, 401, "invalid_token")


def test_wrong_code_is_401_and_the_right_one_still_works(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token = challenge(anon_client, flavour, user)
    code = last_code()
    response = step2(anon_client, flavour, token, wrong(code))
    assert_error(response, 401, "invalid_code")
    assert LoginChallenge.objects.get().failed_attempts == 1
    response = step2(anon_client, flavour, token, code)
    assert response.status_code == 200


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", "--", "1" * 300])
def test_malformed_code_at_step_2_is_refused_like_a_wrong_one_and_counts_nothing(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any, code: str
) -> None:
    token = challenge(anon_client, flavour, user)
    response = step2(anon_client, flavour, token, code)
    assert_error(response, 401, "invalid_code")  # django-trench's answer to any bad code
    assert LoginChallenge.objects.get().failed_attempts == 0
    assert MFAMethod.objects.get(user=user).failure_count == 0
    response = step2(anon_client, flavour, token, last_code())
    assert response.status_code == 200


def test_blank_code_at_step_2_is_a_field_error(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token = challenge(anon_client, flavour, user)
    response = step2(anon_client, flavour, token, " ")
    assert response.json() == {"code": ["This field may not be blank."]}


def test_missing_fields_at_step_2(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token = challenge(anon_client, flavour, user)
    assert_field_error(anon_client.post(flavour.code, {"ephemeral_token": token}), "code")
    assert_field_error(anon_client.post(flavour.code, {"code": "123456"}), "ephemeral_token")


def test_bad_token_comes_before_a_malformed_code(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour
) -> None:
    response = step2(anon_client, flavour, "nope", "12")
    assert_error(response, 401, "invalid_token")


def test_backup_code_logs_in_once(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    _, codes = email_mfa_user
    token = challenge(anon_client, flavour, user)
    response = step2(anon_client, flavour, token, codes[0])
    assert response.status_code == 200 and set(response.json()) == flavour.token_keys
    token = challenge(anon_client, flavour, user)
    response = step2(anon_client, flavour, token, codes[0])
    assert_error(response, 401, "invalid_code")


def test_code_of_the_challenged_method_only(
    two_email_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    # Deliberate difference 1: the code is checked against the named method only.
    token = challenge(anon_client, flavour, user)
    code = last_code()  # a code of "email"
    body = {"ephemeral_token": token, "code": code, "method": "email2"}
    assert_error(anon_client.post(flavour.code, body), 401, "invalid_code")
    body["method"] = "email"
    assert anon_client.post(flavour.code, body).status_code == 200


def test_unknown_or_inactive_method_at_step_2(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    flavour: Flavour,
    user: Any,
    email2_configured: None,
) -> None:
    token = challenge(anon_client, flavour, user)
    code = last_code()
    for method in ("nope", "email2"):
        body = {"ephemeral_token": token, "code": code, "method": method}
        assert_error(anon_client.post(flavour.code, body), 401, "invalid_code")
    assert step2(anon_client, flavour, token, code).status_code == 200


# --- login/code/request ---------------------------------------------------------------


def test_resend_without_password_voids_the_old_code(
    email_mfa_user: ActivatedUser,
    anon_client: APIClient,
    flavour: Flavour,
    user: Any,
    time_machine: Any,
) -> None:
    time_machine.move_to(datetime(2026, 1, 5, 12, 0, tzinfo=UTC), tick=False)
    token = challenge(anon_client, flavour, user)
    old = last_code()
    # Inside the cooldown nothing is sent.
    response = anon_client.post(flavour.resend, {"ephemeral_token": token})
    assert_error(response, 429, "throttled")
    assert int(response.headers["Retry-After"]) == response.json()["retry_after"] > 0
    assert len(mail.outbox) == 1
    time_machine.shift(timedelta(seconds=61))  # past RESEND_COOLDOWN
    response = anon_client.post(flavour.resend, {"ephemeral_token": token})
    assert response.status_code == 200
    assert response.json() == {"details": "Email message with MFA code has been sent."}
    assert len(mail.outbox) == 2
    new = last_code()
    if new != old:  # one chance in a million that both draws are equal
        response = step2(anon_client, flavour, token, old)
        assert_error(response, 401, "invalid_code")
    response = step2(anon_client, flavour, token, new)
    assert response.status_code == 200


def test_resend_for_another_method(
    two_email_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    token = challenge(anon_client, flavour, user)
    response = anon_client.post(flavour.resend, {"ephemeral_token": token, "method": "email2"})
    assert response.status_code == 200
    live = OneTimeCode.objects.get(consumed_at__isnull=True, method__name="email2")
    assert live.purpose == "login"
    # The challenge now names email2, so step 2 defaults to it.
    response = step2(anon_client, flavour, token, last_code())
    assert response.status_code == 200


def test_resend_errors(
    email_mfa_user: ActivatedUser, anon_client: APIClient, flavour: Flavour, user: Any
) -> None:
    assert_error(anon_client.post(flavour.resend, {"ephemeral_token": "x"}), 401, "invalid_token")
    assert_field_error(anon_client.post(flavour.resend, {}), "ephemeral_token")
    token = challenge(anon_client, flavour, user)
    response = anon_client.post(flavour.resend, {"ephemeral_token": token, "method": "nope"})
    assert_error(response, 401, "invalid_code")
    assert len(mail.outbox) == 1
    step2(anon_client, flavour, token, last_code())
    response = anon_client.post(flavour.resend, {"ephemeral_token": token})
    assert_error(response, 401, "invalid_token")
    assert len(mail.outbox) == 1


# --- logout ---------------------------------------------------------------------------


def test_logout_deletes_the_token(user: Any, anon_client: APIClient) -> None:
    body = start_login(anon_client, FLAVOUR_TOKEN, user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['auth_token']}")
    assert client.get("/auth/mfa/user-active-methods/").status_code == 200
    response = client.post("/auth/token/logout/")
    assert response.status_code == 204
    assert not Token.objects.filter(user=user).exists()
    assert client.get("/auth/mfa/user-active-methods/").status_code == 401
    assert client.post("/auth/token/logout/").status_code == 401


def test_logout_needs_authentication(anon_client: APIClient) -> None:
    assert anon_client.post("/auth/token/logout/").status_code == 401

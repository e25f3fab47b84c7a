"""django-trench's login (no ``FLOWS``): the ``amr`` and ``mfa_at`` claims of issued JWTs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.conftest import credentials, last_code, start_activation
from tests.jwt_claims.conftest import NOW_TS, answer, claims, login_step_one, refresh, tokens_of
from tests.support.flows import sms_code
from tests.support.sms_outbox import OUTBOX
from tests.support.yubikey import FakeValidationServer, make_otp

MFA_CLAIMS = {"amr": ["pwd", "otp", "mfa"], "mfa_at": NOW_TS}


def trench_claims(payload: dict[str, Any]) -> dict[str, Any]:
    """Only the claims trench_mfa adds."""
    return {k: payload[k] for k in ("amr", "mfa_at") if k in payload}


def test_password_only_login_says_pwd_and_no_mfa_at(user: Any) -> None:
    response = APIClient().post("/auth/jwt/login/", credentials(user))
    assert trench_claims(claims(tokens_of(response))) == {"amr": ["pwd"]}


def test_email_code_login(email_mfa_user: tuple[Any, list[str]]) -> None:
    user, _ = email_mfa_user
    token = login_step_one(user)["ephemeral_token"]
    body = tokens_of(answer(token, last_code()))
    payload = claims(body)
    assert trench_claims(payload) == MFA_CLAIMS
    assert str(payload["user_id"]) == str(user.pk)  # simplejwt's own claims stay


def test_backup_code_login_is_otp(email_mfa_user: tuple[Any, list[str]]) -> None:
    user, backup = email_mfa_user
    token = login_step_one(user)["ephemeral_token"]
    assert trench_claims(claims(tokens_of(answer(token, backup[0])))) == MFA_CLAIMS


def test_sms_code_adds_sms(
    user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"sms": OUTBOX})
    assert start_activation(api_client, "sms").status_code == 200
    confirm = api_client.post("/auth/sms/activate/confirm/", {"code": sms_code()})
    assert confirm.status_code == 200, confirm.content
    backup = confirm.json()["backup_codes"]
    token = login_step_one(user)["ephemeral_token"]
    payload = claims(tokens_of(answer(token, sms_code())))
    assert payload["amr"] == ["pwd", "otp", "sms", "mfa"]
    # A backup code instead of the SMS code: no text message was confirmed.
    token = login_step_one(user)["ephemeral_token"]
    assert claims(tokens_of(answer(token, backup[0])))["amr"] == ["pwd", "otp", "mfa"]


def test_other_method_named_in_step_two(
    email_mfa_user: tuple[Any, list[str]],
    api_client: APIClient,
    trench_auth: Callable[..., Any],
) -> None:
    user, _ = email_mfa_user
    trench_auth(methods={"sms": OUTBOX})
    assert start_activation(api_client, "sms").status_code == 200
    assert api_client.post("/auth/sms/activate/confirm/", {"code": sms_code()}).status_code == 200
    token = login_step_one(user)["ephemeral_token"]  # email is primary
    resend = {"ephemeral_token": token, "method": "sms"}
    assert APIClient().post("/auth/jwt/login/code/request/", resend).status_code == 200
    payload = claims(tokens_of(answer(token, sms_code(), method="sms")))
    assert payload["amr"] == ["pwd", "otp", "sms", "mfa"]


@pytest.fixture
def yubi_user(
    user: Any, api_client: APIClient, yubicloud: FakeValidationServer, yubi_settings: Any
) -> tuple[Any, list[str]]:
    """``user`` with a YubiKey; (user, backup codes)."""
    assert start_activation(api_client, "yubi").status_code == 200
    response = api_client.post("/auth/yubi/activate/confirm/", {"code": make_otp()})
    assert response.status_code == 200, response.content
    return user, response.json()["backup_codes"]


def test_yubikey_login_is_hwk(yubi_user: tuple[Any, list[str]]) -> None:
    user, backup = yubi_user
    token = login_step_one(user)["ephemeral_token"]
    payload = claims(tokens_of(answer(token, make_otp())))
    assert trench_claims(payload) == {"amr": ["pwd", "hwk", "otp", "mfa"], "mfa_at": NOW_TS}
    # A backup code in place of the key proves no hardware key.
    token = login_step_one(user)["ephemeral_token"]
    assert trench_claims(claims(tokens_of(answer(token, backup[0])))) == MFA_CLAIMS


def test_mfa_at_is_the_time_of_the_code(email_mfa_user: tuple[Any, list[str]], frozen: Any) -> None:
    user, _ = email_mfa_user
    token = login_step_one(user)["ephemeral_token"]
    frozen.shift(95)  # the user takes a while to read the email
    assert claims(tokens_of(answer(token, last_code())))["mfa_at"] == NOW_TS + 95


def test_authtoken_flavour_is_unchanged(email_mfa_user: tuple[Any, list[str]]) -> None:
    user, _ = email_mfa_user
    client = APIClient()
    token = client.post("/auth/token/login/", credentials(user)).json()["ephemeral_token"]
    body = client.post("/auth/token/login/code/", {"ephemeral_token": token, "code": last_code()})
    assert set(body.json()) == {"auth_token"}


# --- refreshing keeps the claims ---------------------------------------------


@pytest.mark.parametrize("rotate", [False, True])
def test_refreshed_tokens_keep_the_claims(
    email_mfa_user: tuple[Any, list[str]],
    frozen: Any,
    monkeypatch: pytest.MonkeyPatch,
    rotate: bool,
) -> None:
    # simplejwt's serializers keep the api_settings object of import time, so
    # override_settings(SIMPLE_JWT=...) would not reach them.
    monkeypatch.setattr(
        "rest_framework_simplejwt.serializers.api_settings.ROTATE_REFRESH_TOKENS", rotate
    )
    user, _ = email_mfa_user
    token = login_step_one(user)["ephemeral_token"]
    body = tokens_of(answer(token, last_code()))
    frozen.shift(3600)
    refreshed = refresh(body["refresh"])
    assert ("refresh" in refreshed) is rotate
    payload = claims({"refresh": refreshed.get("refresh", body["refresh"]), **refreshed})
    # The MFA happened at login, not at the refresh.
    assert trench_claims(payload) == MFA_CLAIMS
    assert payload["iat"] == NOW_TS + 3600


def test_access_token_made_from_the_refresh_token_keeps_the_claims(
    email_mfa_user: tuple[Any, list[str]],
) -> None:
    user, _ = email_mfa_user
    token = login_step_one(user)["ephemeral_token"]
    body = tokens_of(answer(token, last_code()))
    access = RefreshToken(body["refresh"]).access_token
    assert trench_claims(dict(access.payload)) == MFA_CLAIMS

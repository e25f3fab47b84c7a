"""YubiKey: only signed, genuine rejections count against the user."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import credentials
from tests.support.yubikey import FakeValidationServer, make_otp
from trench_mfa.models import MFAMethod

pytestmark = pytest.mark.django_db

KEY = "ccccccbcgujh"


@pytest.fixture
def yubi_user(
    user: Any, api_client: APIClient, yubicloud: FakeValidationServer, yubi_settings: Any
) -> Any:
    """``user`` with the ``yubi`` method active, bound to :data:`KEY`."""
    assert api_client.post("/auth/yubi/activate/").status_code == 200
    response = api_client.post("/auth/yubi/activate/confirm/", {"code": make_otp(KEY)})
    assert response.status_code == 200, response.content
    return user


def _login(client: APIClient, user: Any) -> str:
    return str(client.post("/auth/jwt/login/", credentials(user)).json()["ephemeral_token"])


def _failures(user: Any) -> int:
    return MFAMethod.objects.get(user=user, name="yubi").failure_count


@pytest.mark.parametrize("status", ["BAD_OTP", "REPLAYED_OTP", "REPLAYED_REQUEST"])
def test_a_signed_rejection_counts(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer, status: str
) -> None:
    token = _login(anon_client, yubi_user)
    yubicloud.mode = f"status:{status}"
    response = anon_client.post(
        "/auth/jwt/login/code/", {"ephemeral_token": token, "code": make_otp(KEY)}
    )
    assert response.status_code == 401
    assert _failures(yubi_user) == 1


@pytest.mark.parametrize(
    "mode",
    ["status:BACKEND_ERROR", "status:NOT_ENOUGH_ANSWERS", "http500", "status:NO_SUCH_CLIENT"],
)
def test_an_unavailable_service_is_503_and_does_not_count(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer, mode: str
) -> None:
    token = _login(anon_client, yubi_user)
    yubicloud.mode = mode
    response = _answer(anon_client, token)
    assert response.status_code == 503, response.content
    assert _failures(yubi_user) == 0


@pytest.mark.parametrize(
    "mode",
    [
        "forged",
        "unsigned",
        "wrong_otp",
        "wrong_nonce",
        "no_echo",
        "double_status",
        "status:NOT_A_STATUS",
    ],
)
def test_an_untrustworthy_answer_fails_but_does_not_count(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer, mode: str
) -> None:
    # A forged or garbled answer must not be able to lock the user out.
    token = _login(anon_client, yubi_user)
    yubicloud.mode = mode
    assert _answer(anon_client, token).status_code == 401
    assert _failures(yubi_user) == 0


def test_an_otp_of_another_key_counts(yubi_user: Any, anon_client: APIClient) -> None:
    token = _login(anon_client, yubi_user)
    response = anon_client.post(
        "/auth/jwt/login/code/", {"ephemeral_token": token, "code": make_otp("ccccccdefghi")}
    )
    assert response.status_code == 401
    assert _failures(yubi_user) == 1


def _answer(client: APIClient, token: str) -> Any:
    return client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": make_otp(KEY)})

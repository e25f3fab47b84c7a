"""YubiKey: only signed, genuine rejections count against the user."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.support.yubikey import (
    SERVICE_FAILURES,
    SIGNED_REJECTIONS,
    UNTRUSTWORTHY_ANSWERS,
    FakeValidationServer,
    login_while_server_answers,
    make_otp,
    yubi_answer,
    yubi_login,
)
from trench_mfa.models import MFAMethod

pytestmark = pytest.mark.django_db


def _failures(user: Any) -> int:
    return MFAMethod.objects.get(user=user, name="yubi").failure_count


@pytest.mark.parametrize(
    ("mode", "status", "counted"),
    [
        *[(mode, 401, 1) for mode in SIGNED_REJECTIONS],
        *[(mode, 503, 0) for mode in SERVICE_FAILURES],
        # A forged or garbled answer must not be able to lock the user out.
        *[(mode, 401, 0) for mode in UNTRUSTWORTHY_ANSWERS],
    ],
)
def test_only_a_signed_rejection_counts_against_the_user(
    yubi_user: Any,
    anon_client: APIClient,
    yubicloud: FakeValidationServer,
    mode: str,
    status: int,
    counted: int,
) -> None:
    response = login_while_server_answers(mode, anon_client, yubi_user, yubicloud)[1]
    assert response.status_code == status, response.content
    assert _failures(yubi_user) == counted


def test_an_otp_of_another_key_counts(yubi_user: Any, anon_client: APIClient) -> None:
    token = yubi_login(anon_client, yubi_user)
    response = yubi_answer(anon_client, token, make_otp("ccccccdefghi"))
    assert response.status_code == 401
    assert _failures(yubi_user) == 1

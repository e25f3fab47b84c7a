"""``POST hardcode/``: set or change the second static secret."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, activate, assert_error, assert_field_error, last_code
from trench_mfa.models import Hardcode
from trench_mfa.services import hardcode

URL = "/auth/hardcode/"
PIN = "4711"


@pytest.fixture(autouse=True)
def _flows(flows_config: Callable[..., Any]) -> None:
    flows_config(identifiers=None)


def test_set_with_the_password(user: Any, api_client: APIClient) -> None:
    response = api_client.post(URL, {"hardcode": PIN, "password": PASSWORD})
    assert response.status_code == 204, response.content
    assert "no-store" in response["Cache-Control"]
    row = Hardcode.objects.get(user=user)
    assert PIN not in row.code_hash and row.code_hash.startswith("md5$")
    assert hardcode.check_hardcode(user, PIN)
    assert not hardcode.check_hardcode(user, "4712")
    # Changing it replaces the old one.
    assert api_client.post(URL, {"hardcode": "9999", "password": PASSWORD}).status_code == 204
    assert Hardcode.objects.count() == 1
    assert hardcode.check_hardcode(user, "9999") and not hardcode.check_hardcode(user, PIN)


def test_wrong_password_changes_nothing(user: Any, api_client: APIClient) -> None:
    assert_error(
        api_client.post(URL, {"hardcode": PIN, "password": "wrong"}),
        400,
        "invalid_password",
        "Invalid password.",
    )
    assert not Hardcode.objects.exists()


def test_set_with_a_code_of_the_primary_method(user: Any, api_client: APIClient) -> None:
    backup = activate(api_client, "email")
    mail.outbox.clear()
    assert api_client.post("/auth/code/request/").status_code == 200
    response = api_client.post(URL, {"hardcode": PIN, "code": last_code()})
    assert response.status_code == 204, response.content
    assert hardcode.check_hardcode(user, PIN)
    # A backup code works as a code; a wrong code changes nothing.
    assert api_client.post(URL, {"hardcode": "1234", "code": backup[0]}).status_code == 204
    assert_error(
        api_client.post(URL, {"hardcode": "5555", "code": "000000", "method": "email"}),
        400,
        "code_invalid_or_expired",
    )
    assert hardcode.check_hardcode(user, "1234")


def test_a_code_needs_mfa(api_client: APIClient) -> None:
    assert_error(api_client.post(URL, {"hardcode": PIN, "code": "123456"}), 400, "not_enabled")
    # A JSON number is read as its string, like django-trench's CharField.
    assert_error(api_client.post(URL, {"hardcode": PIN, "code": 123456}), 400, "not_enabled")
    assert_error(
        api_client.post(URL, {"hardcode": PIN, "code": "123456", "method": "nope"}),
        400,
        "mfa_method_does_not_exist",
    )
    assert not Hardcode.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"hardcode": PIN}, "password"),
        ({"password": PASSWORD}, "hardcode"),
        ({"hardcode": "123", "password": PASSWORD}, "hardcode"),
        ({"hardcode": 4711, "password": PASSWORD}, "hardcode"),
        ({"hardcode": "x" * 129, "password": PASSWORD}, "hardcode"),
        ({"hardcode": PIN, "password": ["x"]}, "password"),
        ({"hardcode": PIN, "code": True}, "code"),
        ({"hardcode": PIN, "code": None}, "code"),
        ({"hardcode": PIN, "code": ["123456"]}, "code"),
    ],
)
def test_bad_input_is_a_field_error(
    api_client: APIClient, body: dict[str, Any], field: str
) -> None:
    assert_field_error(api_client.post(URL, body), field)
    assert not Hardcode.objects.exists()


def test_minimum_length_is_a_setting(
    flows_config: Callable[..., Any], api_client: APIClient
) -> None:
    flows_config(identifiers=None, HARDCODE_MIN_LENGTH=6)
    assert_field_error(
        api_client.post(URL, {"hardcode": "12345", "password": PASSWORD}), "hardcode"
    )
    assert api_client.post(URL, {"hardcode": "123456", "password": PASSWORD}).status_code == 204


def test_needs_authentication(anon_client: APIClient) -> None:
    assert anon_client.post(URL, {"hardcode": PIN, "password": PASSWORD}).status_code == 401


def test_a_missing_hardcode_costs_a_hash_like_a_wrong_one(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    from django.contrib.auth import hashers

    real = hashers.MD5PasswordHasher.encode

    def counting(self: Any, password: str, salt: str) -> str:
        calls.append("hash")
        return real(self, password, salt)

    monkeypatch.setattr(hashers.MD5PasswordHasher, "encode", counting)
    assert not hardcode.check_hardcode(user, PIN)
    assert not hardcode.check_hardcode(None, PIN)
    assert len(calls) == 2

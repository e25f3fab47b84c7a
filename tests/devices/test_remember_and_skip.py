"""Remembering a device at login step 2, and skipping the code with it at step 1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import Flavour, credentials
from tests.devices.conftest import JWT, Device, login_with_code, remember_device, step_one
from trench_mfa.models import EventType, MFAEvent, RememberedDevice

pytestmark = pytest.mark.django_db


def test_the_feature_is_off_unless_configured(email_mfa_user: Any) -> None:
    user, _ = email_mfa_user
    response = login_with_code(user, remember=True)
    assert response.status_code == 200
    assert set(response.json()) == {"refresh", "access"}
    assert not response.cookies
    assert not RememberedDevice.objects.exists()


def test_days_none_turns_it_off(
    email_mfa_user: Any, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    trench_auth(REMEMBER_DEVICE=True, REMEMBER_DEVICE_DAYS=None)
    user, _ = email_mfa_user
    assert "device_token" not in login_with_code(user, remember=True).json()


def test_no_device_without_asking(email_mfa_user: Any, remembering: None) -> None:
    user, _ = email_mfa_user
    assert set(login_with_code(user).json()) == {"refresh", "access"}
    assert set(login_with_code(user, remember=False).json()) == {"refresh", "access"}
    assert not RememberedDevice.objects.exists()


def test_remembering_answers_an_opaque_token_stored_only_as_a_hash(
    email_mfa_user: Any, remembering: None, flavour: Flavour
) -> None:
    user, _ = email_mfa_user
    device = remember_device(user, flavour)
    assert flavour.token_keys < set(device.body)
    assert len(device.token) >= 43  # 256 random bits, URL-safe base64
    row = RememberedDevice.objects.get()
    assert row.user_id == user.pk
    assert device.token not in str(list(RememberedDevice.objects.values_list()))
    assert (row.expires_at - row.created_at).days == 30
    assert device.body["device_expires_at"].startswith(row.expires_at.date().isoformat())
    cookie = device.response.cookies["trench_mfa_device"]
    assert cookie.value == device.token
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Strict"
    assert MFAEvent.objects.filter(user=user, event=EventType.DEVICE_REMEMBERED).count() == 1


@pytest.mark.parametrize("where", ["body", "header", "cookie"])
def test_a_remembered_device_skips_the_code(device: Device, where: str, flavour: Flavour) -> None:
    user = RememberedDevice.objects.get().user
    client = APIClient()
    extra: dict[str, Any] = {}
    body = credentials(user)
    if where == "body":
        body["device_token"] = device.token
    elif where == "header":
        extra["HTTP_X_MFA_DEVICE_TOKEN"] = device.token
    else:
        client.cookies["trench_mfa_device"] = device.token
    response = client.post(flavour.login, body, **extra)
    assert response.status_code == 200, response.content
    assert set(response.json()) == flavour.token_keys
    assert MFAEvent.objects.filter(user=user, event=EventType.DEVICE_USED).count() == 1


def test_the_jwt_records_the_device_and_no_code(device: Device) -> None:
    user = RememberedDevice.objects.get().user
    body = step_one(user, device_token=device.token).json()
    payload = AccessToken(body["access"]).payload
    assert payload["amr"] == ["pwd", "device"]
    assert "mfa_at" not in payload


def test_using_a_device_records_when_and_from_where(device: Device) -> None:
    user = RememberedDevice.objects.get().user
    step_one(user, device_token=device.token, HTTP_X_FORWARDED_FOR="203.0.113.9")
    row = RememberedDevice.objects.get()
    assert row.last_used_at is not None
    assert row.last_ip == "127.0.0.1"  # NUM_PROXIES = 0: the socket's address


def test_a_wrong_password_with_a_good_device_token_is_refused(device: Device) -> None:
    user = RememberedDevice.objects.get().user
    response = APIClient().post(
        JWT.login, {**credentials(user, "wrong-password"), "device_token": device.token}
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "unauthenticated"
    assert RememberedDevice.objects.get().last_used_at is None


def test_a_device_login_can_not_remember_another_device(device: Device) -> None:
    user = RememberedDevice.objects.get().user
    response = APIClient().post(
        JWT.login, {**credentials(user), "device_token": device.token, "remember_device": True}
    )
    assert "device_token" not in response.json()
    assert RememberedDevice.objects.count() == 1


def test_a_user_without_mfa_gets_tokens_and_no_device(user: Any, remembering: None) -> None:
    response = APIClient().post(JWT.login, credentials(user))
    assert set(response.json()) == {"refresh", "access"}
    assert AccessToken(response.json()["access"]).payload["amr"] == ["pwd"]

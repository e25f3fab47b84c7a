"""A device token that does not fit is ignored: normal MFA, nothing revealed, audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import activate, username_field
from tests.devices.conftest import JWT, Device, step_one
from trench_mfa.models import EventType, MFAEvent, RememberedDevice

pytestmark = pytest.mark.django_db

CHALLENGE_KEYS = {"ephemeral_token", "method", "other_methods", "factors_remaining"}


def _expired(device: Device, **_: Any) -> str:
    RememberedDevice.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    return device.token


def _revoked(device: Device, client: APIClient, **_: Any) -> str:
    assert client.delete("/auth/devices/").status_code == 204
    return device.token


def _tampered(device: Device, **_: Any) -> str:
    last = device.token[-1]
    return device.token[:-1] + ("A" if last != "A" else "B")


def _garbage(device: Device, **_: Any) -> str:
    return "not a token \u00e9\x00" * 20


CASES: dict[str, Callable[..., str]] = {
    "expired": _expired,
    "revoked": _revoked,
    "tampered": _tampered,
    "garbage": _garbage,
}


@pytest.mark.parametrize("case", CASES)
def test_an_unusable_token_gets_the_usual_challenge(
    device: Device, api_client: APIClient, case: str
) -> None:
    user = RememberedDevice.objects.get().user
    token = CASES[case](device, client=api_client)
    plain = step_one(user)
    response = step_one(user, device_token=token)
    assert response.status_code == plain.status_code == 200
    assert set(response.json()) == set(plain.json()) == CHALLENGE_KEYS
    assert response.json()["method"] == "email"
    assert MFAEvent.objects.filter(user=user, event=EventType.DEVICE_USED).count() == 0
    assert MFAEvent.objects.filter(user=user, event=EventType.DEVICE_REJECTED).count() == 1


def test_a_token_expires_after_the_configured_days(device: Device) -> None:
    user = RememberedDevice.objects.get().user
    with time_machine.travel(timezone.now() + timedelta(days=29, hours=23), tick=False):
        assert set(step_one(user, device_token=device.token).json()) == {"refresh", "access"}
    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=1), tick=False):
        assert set(step_one(user, device_token=device.token).json()) == CHALLENGE_KEYS


def test_another_users_token_is_ignored(
    device: Device,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
) -> None:
    bob = user_factory(username="bob")
    activate(client_for(bob))
    assert set(step_one(bob, device_token=device.token).json()) == CHALLENGE_KEYS
    # ... and it stays good for its owner.
    alice = RememberedDevice.objects.get().user
    assert set(step_one(alice, device_token=device.token).json()) == {"refresh", "access"}


def test_checks_count_toward_the_login_throttle(device: Device, settings: Any) -> None:
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        # The login that remembered the device was the first of four.
        "DEFAULT_THROTTLE_RATES": {"trench_mfa_login": "4/min"},
    }
    user = RememberedDevice.objects.get().user
    for _ in range(3):
        assert step_one(user, device_token=device.token + "x").status_code == 200
    refused = step_one(user, device_token=device.token)
    assert refused.status_code == 429
    assert RememberedDevice.objects.get().last_used_at is None


def test_a_passwordless_flow_is_never_skipped(
    device: Device, flows_config: Callable[..., dict[str, Any]], verified_user: Any
) -> None:
    flows_config(flows=[(username_field(), "password"), ("email", "passcode")])
    passwordless = APIClient().post(
        JWT.login, {"email": verified_user.email, "device_token": device.token}
    )
    assert passwordless.status_code == 200, passwordless.content
    assert "ephemeral_token" in passwordless.json()
    # The password flow of the same user still skips its code.
    assert "access" in step_one(verified_user, device_token=device.token).json()

"""Every remembered device is revoked when the account's security changes."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, PASSWORD, activate, last_code
from tests.devices.conftest import Device, step_one
from trench_mfa.models import EventType, MFAEvent, RememberedDevice

pytestmark = pytest.mark.django_db


def assert_revoked(device: Device, user: Any, reason: str | None) -> None:
    """The device no longer skips the code, and is gone from the list."""
    assert "ephemeral_token" in step_one(user, device_token=device.token).json()
    assert not RememberedDevice.objects.filter(user_id=user.pk).exists()
    if reason is not None:
        assert MFAEvent.objects.filter(event=EventType.DEVICES_REVOKED, outcome=reason).exists()


def _owner() -> Any:
    return RememberedDevice.objects.get().user


def test_a_password_change_revokes_devices(device: Device, api_client: APIClient) -> None:
    user = _owner()
    response = api_client.post(
        "/auth/users/set_password/",
        {"current_password": PASSWORD, "new_password": "another-long-passphrase-2026"},
    )
    assert response.status_code == 204, response.content
    user.refresh_from_db()
    assert api_client.get("/auth/devices/").json() == []
    assert (
        "ephemeral_token"
        in step_one(user, password="another-long-passphrase-2026", device_token=device.token).json()
    )
    assert not RememberedDevice.objects.exists()


def test_turning_mfa_off_revokes_devices(
    device: Device, api_client: APIClient, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    user = _owner()
    trench_auth(REMEMBER_DEVICE=True, CONFIRM_DISABLE_WITH_CODE=False)
    assert api_client.post("/auth/email/deactivate/", {}).status_code == 204
    # MFA is off: a login gives tokens anyway; turning it on again must not
    # bring the device back.
    activate(api_client)
    assert_revoked(device, user, "mfa_disabled")


def test_removing_a_method_revokes_devices(
    device: Device, api_client: APIClient, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    user = _owner()
    trench_auth(methods={"email2": EMAIL2})
    activate(api_client, "email2")
    assert RememberedDevice.objects.count() == 1
    mail.outbox.clear()
    assert api_client.post("/auth/code/request/", {"method": "email2"}).status_code == 200
    response = api_client.post("/auth/email2/deactivate/", {"code": last_code()})
    assert response.status_code == 204, response.content
    assert_revoked(device, user, "method_removed")


def test_regenerating_backup_codes_revokes_devices(device: Device, api_client: APIClient) -> None:
    user = _owner()
    mail.outbox.clear()
    assert api_client.post("/auth/code/request/").status_code == 200
    response = api_client.post("/auth/email/codes/regenerate/", {"code": last_code()})
    assert response.status_code == 200, response.content
    assert_revoked(device, user, "backup_codes_regenerated")


def test_an_admin_reset_revokes_devices(device: Device) -> None:
    user = _owner()
    call_command("mfa_disable", user.get_username(), stdout=StringIO(), stderr=StringIO())
    assert not RememberedDevice.objects.exists()
    assert MFAEvent.objects.filter(event=EventType.DEVICES_REVOKED, outcome="admin_reset").exists()
    assert set(step_one(user, device_token=device.token).json()) == {"refresh", "access"}


def test_a_new_method_leaves_devices_alone(
    device: Device, api_client: APIClient, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    trench_auth(methods={"email2": EMAIL2})
    activate(api_client, "email2")
    assert RememberedDevice.objects.count() == 1


def test_other_users_devices_survive(
    device: Device, user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    bob = user_factory(username="bob")
    activate(client_for(bob))
    call_command("mfa_disable", bob.get_username(), stdout=StringIO(), stderr=StringIO())
    assert RememberedDevice.objects.count() == 1

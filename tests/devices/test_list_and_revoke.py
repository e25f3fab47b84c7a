"""``GET devices/``, ``DELETE devices/<id>/`` and ``DELETE devices/``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import activate
from tests.devices.conftest import Device, remember_device, step_one
from trench_mfa.models import EventType, MFAEvent, RememberedDevice

pytestmark = pytest.mark.django_db

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
)


def test_the_list_describes_each_device_and_never_its_token(
    device: Device, api_client: APIClient
) -> None:
    user = RememberedDevice.objects.get().user
    second = remember_device(user, agent=CHROME_ANDROID)
    step_one(user, device_token=device.token)
    response = api_client.get("/auth/devices/")
    assert response.status_code == 200
    listed = response.json()
    assert [d["name"] for d in listed] == ["Chrome on Android", "Firefox on Linux"]
    assert set(listed[0]) == {"id", "name", "created_at", "last_used_at", "last_ip", "expires_at"}
    used = listed[1]
    assert used["last_used_at"] is not None and used["last_ip"] == "127.0.0.1"
    assert device.token not in response.content.decode()
    assert second.token not in response.content.decode()


def test_the_list_shows_only_the_users_own_devices(
    device: Device, user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    bob = user_factory(username="bob")
    assert client_for(bob).get("/auth/devices/").json() == []


def test_revoking_one_device(device: Device, api_client: APIClient) -> None:
    user = RememberedDevice.objects.get().user
    other = remember_device(user, agent=CHROME_ANDROID)
    first_id = RememberedDevice.objects.order_by("pk").first().pk  # type: ignore[union-attr]
    assert api_client.delete(f"/auth/devices/{first_id}/").status_code == 204
    assert "ephemeral_token" in step_one(user, device_token=device.token).json()
    assert "access" in step_one(user, device_token=other.token).json()
    assert MFAEvent.objects.filter(event=EventType.DEVICES_REVOKED, outcome="user_request").exists()


def test_another_users_device_can_not_be_revoked(
    device: Device, user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    bob = client_for(user_factory(username="bob"))
    device_id = RememberedDevice.objects.get().pk
    response = bob.delete(f"/auth/devices/{device_id}/")
    assert response.status_code == 404
    assert RememberedDevice.objects.filter(pk=device_id).exists()


def test_revoking_every_device(device: Device, api_client: APIClient) -> None:
    user = RememberedDevice.objects.get().user
    other = remember_device(user, agent=CHROME_ANDROID)
    assert api_client.delete("/auth/devices/").status_code == 204
    for token in (device.token, other.token):
        assert "ephemeral_token" in step_one(user, device_token=token).json()
    assert api_client.get("/auth/devices/").json() == []


@pytest.mark.parametrize("path", ["/auth/devices/", "/auth/devices/1/"])
def test_anonymous_clients_are_refused(anon_client: APIClient, path: str) -> None:
    assert anon_client.get("/auth/devices/").status_code == 401
    assert anon_client.delete(path).status_code == 401


def test_a_device_id_that_is_no_number_is_not_found(api_client: APIClient) -> None:
    assert api_client.delete("/auth/devices/abc/").status_code == 404


def test_devices_of_a_user_without_mfa_are_listed_empty(user: Any, api_client: APIClient) -> None:
    activate(api_client)
    assert api_client.get("/auth/devices/").json() == []

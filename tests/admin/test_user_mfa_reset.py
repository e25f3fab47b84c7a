"""The admin's user page: MFA state, and "Reset MFA" through the service of ``mfa_disable``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import activate
from trench_mfa.models import BackupCode, EventType, MFAEvent, MFAMethod, RememberedDevice
from trench_mfa.state import devices

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        get_user_model()._meta.label != "accounts.User",
        reason="the test project's user admin is registered for accounts.User only",
    ),
]


@pytest.fixture
def alice(user: Any, api_client: APIClient, trench_auth: Callable[..., Any]) -> Any:
    """``user`` with email MFA and a remembered device."""
    trench_auth(REMEMBER_DEVICE=True)
    activate(api_client)
    devices.remember(user, days=30, name="Firefox on Linux", ip=None)
    return user


def _page(user: Any) -> str:
    return f"/admin/accounts/user/{user.pk}/change/"


def test_the_user_page_shows_the_mfa_state(staff: Client, alice: Any) -> None:
    content = staff.get(_page(alice)).content.decode()
    assert "MFA is on:" in content
    assert "email (primary)" in content
    assert "Backup codes left: 10." in content
    assert "Remembered devices: 1." in content
    assert f"/admin/accounts/user/{alice.pk}/mfa-reset/" in content


def test_a_user_without_mfa_shows_it_off(staff: Client, user: Any) -> None:
    assert "MFA is off." in staff.get(_page(user)).content.decode()


def test_reset_asks_first_then_disables_everything(staff: Client, alice: Any) -> None:
    url = f"/admin/accounts/user/{alice.pk}/mfa-reset/"
    assert staff.get(url).status_code == 200
    assert MFAMethod.objects.filter(is_active=True).exists()
    response = staff.post(url)
    assert response.status_code == 302
    assert response["Location"] == _page(alice)
    assert not MFAMethod.objects.filter(user=alice, is_active=True).exists()
    assert not BackupCode.objects.filter(user=alice).exists()
    assert not RememberedDevice.objects.filter(user=alice).exists()
    assert MFAEvent.objects.filter(user=alice, event=EventType.METHOD_DEACTIVATED).count() == 1
    assert MFAEvent.objects.filter(
        user=alice, event=EventType.DEVICES_REVOKED, outcome="admin_reset"
    ).exists()


def test_the_list_action_resets_the_selected_users(staff: Client, alice: Any) -> None:
    response = staff.post(
        "/admin/accounts/user/", {"action": "reset_mfa", "_selected_action": [alice.pk]}
    )
    assert response.status_code == 302
    assert not MFAMethod.objects.filter(user=alice, is_active=True).exists()


def test_staff_without_change_permission_can_not_reset(
    alice: Any, user_factory: Callable[..., Any]
) -> None:
    from django.contrib.auth.models import Permission

    viewer = user_factory(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    client.force_login(viewer)
    assert client.post(f"/admin/accounts/user/{alice.pk}/mfa-reset/").status_code == 403
    assert MFAMethod.objects.filter(user=alice, is_active=True).exists()

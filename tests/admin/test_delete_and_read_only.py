"""Deleting a method in the admin disables it as the API does; read-only pages cannot save."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from trench_mfa.models import BackupCode, EventType, MFAEvent, MFAMethod


def _deactivations(user: Any) -> list[str]:
    return list(
        MFAEvent.objects.filter(user=user, event=EventType.METHOD_DEACTIVATED).values_list(
            "method", flat=True
        )
    )


def test_the_delete_button_on_the_last_method_drops_the_backup_codes(
    staff: Client, email_mfa_user: tuple[Any, list[str]]
) -> None:
    user, _ = email_mfa_user
    method = MFAMethod.objects.get(user=user, name="email")
    assert BackupCode.objects.filter(user=user).exists()
    url = reverse("admin:trench_mfa_mfamethod_delete", args=[method.pk])
    assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not MFAMethod.objects.filter(user=user).exists()
    assert not BackupCode.objects.filter(user=user).exists()
    assert _deactivations(user) == ["email"]


def test_delete_selected_of_the_primary_promotes_the_other_method(
    staff: Client, two_email_user: tuple[Any, list[str]]
) -> None:
    user, _ = two_email_user
    primary = MFAMethod.objects.get(user=user, is_primary=True)
    response = staff.post(
        reverse("admin:trench_mfa_mfamethod_changelist"),
        {"action": "delete_selected", "_selected_action": [str(primary.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    [left] = MFAMethod.objects.filter(user=user)
    assert left.name != primary.name and left.is_active and left.is_primary
    # Another method is still active: the backup codes stay.
    assert BackupCode.objects.filter(user=user).exists()
    assert _deactivations(user) == [primary.name]


def test_deleting_a_pending_method_writes_no_deactivation(staff: Client, user: Any) -> None:
    pending = MFAMethod.objects.create(user=user, name="email", is_active=False)
    url = reverse("admin:trench_mfa_mfamethod_delete", args=[pending.pk])
    assert staff.post(url, {"post": "yes"}).status_code == 302
    assert not MFAMethod.objects.filter(pk=pending.pk).exists()
    assert _deactivations(user) == []


def _change_pages(user: Any) -> list[str]:
    method = MFAMethod.objects.get(user=user, name="email")
    event = MFAEvent.objects.filter(user=user).first()
    assert event is not None
    return [
        reverse("admin:trench_mfa_mfamethod_change", args=[method.pk]),
        reverse("admin:trench_mfa_mfaevent_change", args=[event.pk]),
    ]


def test_read_only_pages_show_no_save_button(
    staff: Client, email_mfa_user: tuple[Any, list[str]]
) -> None:
    user, _ = email_mfa_user
    for page in _change_pages(user):
        response = staff.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for button in ('name="_save"', 'name="_continue"', 'name="_addanother"'):
            assert button not in html, (page, button)
    method_page = staff.get(_change_pages(user)[0]).content.decode()
    assert "deletelink" in method_page  # deleting stays possible, through the service


def test_saving_a_method_page_is_refused(
    staff: Client, email_mfa_user: tuple[Any, list[str]]
) -> None:
    user, _ = email_mfa_user
    page = _change_pages(user)[0]
    assert staff.post(page, {"_save": "Save"}).status_code == 403


@pytest.fixture
def viewer(user_factory: Callable[..., Any]) -> Client:
    """A staff client that may only view methods."""
    person = user_factory(username="viewer", is_staff=True)
    person.user_permissions.add(Permission.objects.get(codename="view_mfamethod"))
    client = Client()
    client.force_login(person)
    return client


@pytest.mark.parametrize("action", ["disable_selected", "unlock_selected", "delete_selected"])
def test_staff_who_may_only_view_cannot_run_the_actions(
    viewer: Client, email_mfa_user: tuple[Any, list[str]], action: str
) -> None:
    user, _ = email_mfa_user
    MFAMethod.objects.filter(user=user).update(failure_count=3)
    method = MFAMethod.objects.get(user=user, name="email")
    changelist = reverse("admin:trench_mfa_mfamethod_changelist")
    assert viewer.get(changelist).status_code == 200
    viewer.post(changelist, {"action": action, "_selected_action": [str(method.pk)], "post": "yes"})
    method.refresh_from_db()
    assert method.is_active and method.failure_count == 3
    assert _deactivations(user) == []

"""The MFAMethod admin: listing, search, filters, actions, and never a secret."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from trench_mfa.models import BackupCode, MFAMethod, OneTimeCode
from trench_mfa.state.secrets_at_rest import decrypt_secret


@pytest.fixture
def app_user(user: Any, api_client: APIClient) -> tuple[Any, str, list[str]]:
    """``user`` with an active app method: (user, TOTP seed, backup codes)."""
    import pyotp

    uri = api_client.post("/auth/app/activate/").json()["details"]
    seed = parse_qs(urlparse(uri).query)["secret"][0]
    codes = api_client.post("/auth/app/activate/confirm/", {"code": pyotp.TOTP(seed).now()}).json()[
        "backup_codes"
    ]
    return user, seed, codes


def _secrets(user: Any, seed: str, codes: list[str]) -> list[str]:
    method = MFAMethod.objects.get(user=user, name="app")
    stored = [method.secret, decrypt_secret(method.secret), seed]
    stored += list(BackupCode.objects.filter(user=user).values_list("code_hash", flat=True))
    stored += list(OneTimeCode.objects.values_list("code_hash", flat=True))
    return [s for s in stored + codes if s]


def test_pages_never_show_a_secret(
    staff: Client, app_user: tuple[Any, str, list[str]], api_client: APIClient
) -> None:
    user, seed, codes = app_user
    api_client.post("/auth/email/activate/")  # leaves a pending method with a code hash
    method = MFAMethod.objects.get(user=user, name="app")
    pages = [
        reverse("admin:trench_mfa_mfamethod_changelist"),
        reverse("admin:trench_mfa_mfamethod_changelist") + f"?q={user.get_username()}",
        reverse("admin:trench_mfa_mfamethod_change", args=[method.pk]),
    ]
    for page in pages:
        response = staff.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        for secret in _secrets(user, seed, codes):
            assert secret not in html, (page, "secret leaked")


def test_list_columns_search_and_filters(
    staff: Client, app_user: tuple[Any, str, list[str]], user_factory: Callable[..., Any]
) -> None:
    other = user_factory(username="bob")
    MFAMethod.objects.create(user=other, name="email")
    url = reverse("admin:trench_mfa_mfamethod_changelist")
    html = staff.get(url).content.decode()
    for column in ("User", "Name", "Is active", "Is primary", "Last used at", "Locked until"):
        assert column in html
    found = staff.get(url, {"q": "bob"}).context["cl"].result_list
    assert [m.user.get_username() for m in found] == [other.get_username()]
    active = staff.get(url, {"is_active__exact": "1"}).context["cl"].result_list
    assert [m.name for m in active] == ["app"]
    MFAMethod.objects.filter(user=other).update(locked_until=timezone.now() + timedelta(minutes=5))
    locked = staff.get(url, {"locked": "yes"}).context["cl"].result_list
    assert [m.user.get_username() for m in locked] == [other.get_username()]


def test_change_form_is_read_only_and_add_is_refused(
    staff: Client, app_user: tuple[Any, str, list[str]]
) -> None:
    user, _, _ = app_user
    method = MFAMethod.objects.get(user=user, name="app")
    url = reverse("admin:trench_mfa_mfamethod_change", args=[method.pk])
    staff.post(url, {"is_active": "", "is_primary": "", "name": "hacked"})
    method.refresh_from_db()
    assert method.is_active and method.name == "app"
    assert staff.get(reverse("admin:trench_mfa_mfamethod_add")).status_code == 403


def _act(staff: Client, action: str, ids: list[int]) -> None:
    response = staff.post(
        reverse("admin:trench_mfa_mfamethod_changelist"),
        {"action": action, "_selected_action": [str(i) for i in ids]},
        follow=True,
    )
    assert response.status_code == 200


def test_disable_action_turns_mfa_off(staff: Client, app_user: tuple[Any, str, list[str]]) -> None:
    user, _, _ = app_user
    method = MFAMethod.objects.get(user=user, name="app")
    _act(staff, "disable_selected", [method.pk])
    method.refresh_from_db()
    assert not method.is_active and not method.is_primary
    assert not BackupCode.objects.filter(user=user).exists()


def test_unlock_action_clears_failures(staff: Client, app_user: tuple[Any, str, list[str]]) -> None:
    user, _, _ = app_user
    MFAMethod.objects.filter(user=user).update(
        failure_count=20,
        last_failure_at=timezone.now(),
        locked_until=timezone.now() + timedelta(hours=1),
    )
    _act(
        staff,
        "unlock_selected",
        list(MFAMethod.objects.filter(user=user).values_list("pk", flat=True)),
    )
    method = MFAMethod.objects.get(user=user, name="app")
    assert (method.failure_count, method.locked_until, method.last_failure_at) == (0, None, None)


def test_expire_codes_action(staff: Client, user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/email/activate/")
    method = MFAMethod.objects.get(user=user, name="email")
    assert OneTimeCode.objects.filter(method=method, consumed_at__isnull=True).count() == 1
    _act(staff, "expire_codes_of_selected", [method.pk])
    assert not OneTimeCode.objects.filter(method=method, consumed_at__isnull=True).exists()


def test_phantom_rows_of_decoy_logins_are_not_listed(
    staff: Client, app_user: tuple[Any, str, list[str]]
) -> None:
    phantom = MFAMethod.objects.create(name="email", phantom="f" * 64)
    url = reverse("admin:trench_mfa_mfamethod_changelist")
    listed = staff.get(url).context["cl"].result_list
    assert [m.name for m in listed] == ["app"]
    page = reverse("admin:trench_mfa_mfamethod_change", args=[phantom.pk])
    assert staff.get(page).status_code == 302  # Django's "does not exist" redirect

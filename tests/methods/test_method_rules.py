"""Rules of method management: who may manage, which changes need a current code,
rows per user and method, one primary, notifications, and no shortcut past MFA.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, MANAGEMENT_ENDPOINTS, activate, assert_error, last_code
from tests.support.throttling import shift
from trench_mfa import signals
from trench_mfa.models import BackupCode, MFAMethod

pytestmark = pytest.mark.django_db


def test_management_needs_a_fully_authenticated_user(
    email_user: Any, anon_client: APIClient
) -> None:
    for method, path in MANAGEMENT_ENDPOINTS:
        assert getattr(anon_client, method)(path).status_code == 401, path


def test_sensitive_changes_need_a_current_code(
    two_methods: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email3": EMAIL2})
    user, _ = two_methods
    # Activation reports the missing code in the envelope; the others require
    # the field (django-trench's serializers).
    assert_error(api_client.post("/auth/email3/activate/", {}), 400, "otp_code_missing")
    for path, body in [
        ("/auth/email2/deactivate/", {}),
        ("/auth/email/codes/regenerate/", {}),
        ("/auth/mfa/change-primary-method/", {"method": "email2"}),
    ]:
        response = api_client.post(path, body)
        assert_error(response, 400, "required", "This field is required.")
        assert set(response.json()) == {"code"}, response.content
    for path, body in [
        ("/auth/email3/activate/", {"code": "000000"}),
        ("/auth/email2/deactivate/", {"code": "000000"}),
        ("/auth/email/codes/regenerate/", {"code": "000000"}),
        ("/auth/mfa/change-primary-method/", {"method": "email2", "code": "000000"}),
    ]:
        assert_error(api_client.post(path, body), 400, "code_invalid_or_expired")
    assert MFAMethod.objects.filter(user=user, is_active=True).count() == 2
    assert MFAMethod.objects.get(user=user, is_primary=True).name == "email"
    assert not MFAMethod.objects.filter(user=user, name="email3").exists()
    assert mail.outbox == []


def test_adding_a_method_needs_a_code_of_the_primary_or_a_backup_code(
    email_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email2": EMAIL2, "email3": EMAIL2}, RESEND_COOLDOWN=0)
    user, backup = email_user
    # A code of the primary method, for a protected action.
    assert api_client.post("/auth/code/request/").status_code == 200
    action_code = last_code()
    # Codes of another purpose or of no active method do not count.
    assert api_client.post("/auth/email2/activate/", {"code": action_code}).status_code == 200
    pending_code = last_code()
    response = api_client.post("/auth/email3/activate/", {"code": pending_code})
    assert_error(response, 400, "code_invalid_or_expired")
    assert not MFAMethod.objects.filter(user=user, name="email3").exists()
    # The primary's code was used up by the first activation.
    response = api_client.post("/auth/email3/activate/", {"code": action_code})
    assert_error(response, 400, "code_invalid_or_expired")
    assert api_client.post("/auth/email3/activate/", {"code": backup[0]}).status_code == 200
    confirm = api_client.post("/auth/email3/activate/confirm/", {"code": last_code()})
    assert confirm.json() == {"backup_codes": []}
    # The pending email2 is confirmed with its own code, nothing more.
    assert (
        api_client.post("/auth/email2/activate/confirm/", {"code": pending_code}).status_code == 200
    )
    assert set(
        MFAMethod.objects.filter(user=user, is_active=True).values_list("name", flat=True)
    ) == {
        "email",
        "email2",
        "email3",
    }


def test_activations_started_without_mfa_start_over_once_it_is_on(
    user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    # Started while MFA was off, they were checked against no factor; once a
    # first method is confirmed they need a code of it like any other.
    trench_auth(methods={"email2": EMAIL2}, RESEND_COOLDOWN=0)
    assert api_client.post("/auth/email2/activate/").status_code == 200
    early_code = last_code()
    assert api_client.post("/auth/email/activate/").status_code == 200
    backup = api_client.post("/auth/email/activate/confirm/", {"code": last_code()}).json()
    response = api_client.post("/auth/email2/activate/confirm/", {"code": early_code})
    assert_error(response, 400, "code_invalid_or_expired")
    assert not MFAMethod.objects.get(user=user, name="email2").is_active
    assert (
        api_client.post("/auth/email2/activate/", {"code": backup["backup_codes"][0]}).status_code
        == 200
    )
    assert (
        api_client.post("/auth/email2/activate/confirm/", {"code": last_code()}).status_code == 200
    )


def test_an_app_primary_confirms_with_its_code(user: Any, api_client: APIClient) -> None:
    from tests.support.app import activate_app, totp_from_uri

    with time_machine.travel(1_800_000_000, tick=False) as clock:
        totp = totp_from_uri(activate_app(api_client)["details"])
        assert (
            api_client.post("/auth/app/activate/confirm/", {"code": totp.now()}).status_code == 200
        )
        assert_error(api_client.post("/auth/email/activate/"), 400, "otp_code_missing")
        shift(clock, 30)
        assert api_client.post("/auth/email/activate/", {"code": totp.now()}).status_code == 200
    assert (
        api_client.post("/auth/email/activate/confirm/", {"code": last_code()}).status_code == 200
    )


def test_only_configured_methods_count_and_none_fails_closed(
    email_user: Any, api_client: APIClient
) -> None:
    # MFA is on with a method that is no longer configured: as at login, no
    # method can be added on the strength of the session alone.
    user, _ = email_user
    MFAMethod.objects.filter(user=user).update(name="retired")
    response = api_client.post("/auth/app/activate/")
    assert_error(response, 400, "mfa_method_does_not_exist")
    assert not MFAMethod.objects.filter(user=user, name="app").exists()


def test_the_current_code_check_can_be_turned_off(
    email_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    # django-trench's behaviour, for projects that re-authenticate otherwise.
    trench_auth(methods={"email2": EMAIL2}, CONFIRM_ACTIVATION_WITH_CODE=False)
    assert api_client.post("/auth/email2/activate/").status_code == 200
    assert (
        api_client.post("/auth/email2/activate/confirm/", {"code": last_code()}).status_code == 200
    )
    assert api_client.get("/auth/mfa/config/").json()["confirm_activation_with_code"] is False


def test_a_user_cannot_touch_another_users_method_of_the_same_name(
    email_user: Any,
    api_client: APIClient,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
) -> None:
    # Methods are addressed by name for the requesting user only: there is no
    # object id to guess, so "another user's method" has no URL at all.
    alice, _ = email_user
    bob = user_factory(username="bob", email="bob@example.com")
    bob_client = client_for(bob)
    activate(bob_client, "email")
    bob_client.post("/auth/code/request/")
    bobs_code = last_code()
    response = api_client.post("/auth/email/deactivate/", {"code": bobs_code})
    assert_error(response, 400, "code_invalid_or_expired")
    assert MFAMethod.objects.get(user=bob).is_active
    assert MFAMethod.objects.get(user=alice).is_active
    assert bob_client.post("/auth/email/deactivate/", {"code": bobs_code}).status_code == 204
    assert MFAMethod.objects.get(user=alice).is_active


def test_one_row_per_user_and_method(email_user: Any, api_client: APIClient) -> None:
    user, _ = email_user
    assert_error(api_client.post("/auth/email/activate/"), 400, "method_already_active")
    assert MFAMethod.objects.filter(user=user, name="email").count() == 1


def test_exactly_one_primary_and_the_last_method_turns_mfa_off(
    two_methods: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(RESEND_COOLDOWN=0)
    user, _ = two_methods
    response = api_client.post("/auth/email/deactivate/", {"code": "000000"})
    assert_error(response, 400, "deactivation_of_primary")
    api_client.post("/auth/code/request/", {"method": "email2"})
    assert api_client.post("/auth/email2/deactivate/", {"code": last_code()}).status_code == 204
    assert BackupCode.objects.filter(user=user).exists()
    api_client.post("/auth/code/request/")
    assert api_client.post("/auth/email/deactivate/", {"code": last_code()}).status_code == 204
    assert not MFAMethod.objects.filter(user=user, is_active=True).exists()
    assert not BackupCode.objects.filter(user=user).exists()


def test_method_changes_send_signals_for_notification(
    user: Any, api_client: APIClient, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email2": EMAIL2}, RESEND_COOLDOWN=0)
    seen: list[str] = []
    watched = {
        "added": signals.mfa_method_activated,
        "removed": signals.mfa_method_deactivated,
        "primary": signals.primary_method_changed,
        "backup used": signals.backup_code_used,
        "regenerated": signals.backup_codes_regenerated,
    }

    def receiver_for(name: str) -> Callable[..., None]:
        return lambda sender, **kwargs: seen.append(name)

    receivers = {name: receiver_for(name) for name in watched}
    for name, signal in watched.items():
        signal.connect(receivers[name], weak=False, dispatch_uid=f"method-change-{name}")
    try:
        backup = activate(api_client, "email")
        activate(api_client, "email2")
        api_client.post("/auth/code/request/")
        body = {"method": "email2", "code": last_code()}
        api_client.post("/auth/mfa/change-primary-method/", body)
        response = api_client.post("/auth/email/codes/regenerate/", {"code": backup[0]})
        new_set = response.json()["backup_codes"]
        api_client.post("/auth/email/deactivate/", {"code": new_set[0]})
    finally:
        for name, signal in watched.items():
            signal.disconnect(dispatch_uid=f"method-change-{name}")
    assert seen == [
        "added",
        "added",
        "primary",
        "backup used",
        "regenerated",
        "backup used",
        "removed",
    ]


def test_at_most_one_method_per_configured_backend(email_user: Any, api_client: APIClient) -> None:
    from trench_mfa.conf import mfa_settings

    user, _ = email_user
    assert_error(api_client.post("/auth/nope/activate/"), 400, "mfa_method_does_not_exist")
    api_client.post("/auth/email/activate/")
    assert MFAMethod.objects.filter(user=user).count() <= len(mfa_settings.methods)


def test_no_shortcut_past_mfa_when_factors_are_lost(email_user: Any, api_client: APIClient) -> None:
    from django.urls import get_resolver

    _, backup = email_user
    names = {p.name for p in get_resolver("trench_mfa.urls").url_patterns}
    assert not any("disable" in (n or "") or "reset" in (n or "") for n in names)
    response = api_client.post("/auth/email/deactivate/")
    assert_error(response, 400, "required", "This field is required.")
    assert set(response.json()) == {"code"}, response.content
    # Recovery is a backup code.
    assert api_client.post("/auth/email/deactivate/", {"code": backup[0]}).status_code == 204
    assert mail.outbox == []

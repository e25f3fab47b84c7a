"""Method management endpoints of ``trench_mfa.urls`` (API.md, "Method management").

Each endpoint: success, every error with its exact status, code and message,
and the error order (unknown method name, then state, then the code).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import (
    EMAIL2,
    MANAGEMENT_ENDPOINTS,
    ActivatedUser,
    Flavour,
    activate,
    assert_error,
    assert_field_error,
    last_code,
    start_login,
)
from trench_mfa.models import BackupCode, MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def action_code(client: APIClient, method: str | None = None) -> str:
    """Request a protected-action code through ``code/request/`` and read it."""
    body = {"method": method} if method else {}
    response = client.post("/auth/code/request/", body)
    assert response.status_code == 200, response.content
    return last_code()


def no_store(response: Any) -> bool:
    """Whether the response forbids caching."""
    return "no-store" in response.headers.get("Cache-Control", "")


# --- authentication and config ----------------------------------------------------------


@pytest.mark.parametrize(("verb", "path"), MANAGEMENT_ENDPOINTS)
def test_management_endpoints_need_authentication(
    anon_client: APIClient, user: Any, verb: str, path: str
) -> None:
    response = getattr(anon_client, verb)(path, {"code": "123456", "method": "email"})
    assert response.status_code == 401
    assert not MFAMethod.objects.exists()


def test_config_is_public_and_reflects_settings(
    anon_client: APIClient, trench_auth: Callable[..., dict[str, Any]], settings: Any
) -> None:
    configured = list(settings.TRENCH_AUTH["MFA_METHODS"])
    assert "email" in configured
    response = anon_client.get("/auth/mfa/config/")
    assert response.status_code == 200
    assert response.json() == {
        "methods": configured,
        "confirm_disable_with_code": True,
        "confirm_activation_with_code": True,
        "confirm_regeneration_with_code": True,
        "allow_backup_codes_regeneration": True,
    }
    trench_auth(
        methods={"email2": EMAIL2},
        CONFIRM_DISABLE_WITH_CODE=False,
        CONFIRM_ACTIVATION_WITH_CODE=False,
        CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE=False,
        ALLOW_BACKUP_CODES_REGENERATION=False,
    )
    assert anon_client.get("/auth/mfa/config/").json() == {
        "methods": [*configured, "email2"],
        "confirm_disable_with_code": False,
        "confirm_activation_with_code": False,
        "confirm_regeneration_with_code": False,
        "allow_backup_codes_regeneration": False,
    }


# --- activate -------------------------------------------------------------------------


def test_activate_sends_a_code_and_leaves_the_method_pending(
    user: Any, api_client: APIClient
) -> None:
    response = api_client.post("/auth/email/activate/")
    assert response.status_code == 200
    assert response.json() == {"details": "Email message with MFA code has been sent."}
    assert no_store(response)
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    method = MFAMethod.objects.get(user=user, name="email")
    assert (method.is_active, method.is_primary) == (False, False)
    assert method.activation_started_at is not None


def test_activate_unknown_method(user: Any, api_client: APIClient) -> None:
    assert_error(api_client.post("/auth/nope/activate/"), 400, "mfa_method_does_not_exist")
    assert not MFAMethod.objects.exists()
    assert mail.outbox == []


def test_activate_twice_while_pending_sends_a_new_code_and_voids_the_old(
    user: Any, api_client: APIClient, time_machine: Any
) -> None:
    time_machine.move_to(NOON, tick=False)
    api_client.post("/auth/email/activate/")
    first = last_code()
    time_machine.shift(timedelta(seconds=61))  # past RESEND_COOLDOWN
    assert api_client.post("/auth/email/activate/").status_code == 200
    second = last_code()
    assert MFAMethod.objects.filter(user=user).count() == 1
    if first != second:  # one chance in a million that both draws are equal
        response = api_client.post("/auth/email/activate/confirm/", {"code": first})
        assert_error(response, 400, "code_invalid_or_expired")
    response = api_client.post("/auth/email/activate/confirm/", {"code": second})
    assert response.status_code == 200


def test_activate_an_active_method(email_mfa_user: ActivatedUser, api_client: APIClient) -> None:
    assert_error(api_client.post("/auth/email/activate/"), 400, "method_already_active")
    assert mail.outbox == []


def test_activate_with_a_source_field_missing_on_the_user_model(
    user: Any, api_client: APIClient, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    trench_auth(methods={"fax": {**EMAIL2, "SOURCE_FIELD": "fax_number"}})
    response = api_client.post("/auth/fax/activate/")
    assert_error(
        response,
        400,
        "source_field_not_exist",
        "Field name `fax_number` is not valid for model `User`.",
    )
    assert not MFAMethod.objects.exists()


def test_activate_without_an_address_is_a_clear_400(
    user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    nobody = user_factory(email="")
    response = client_for(nobody).post("/auth/email/activate/")
    assert_error(response, 400, "invalid_input")
    assert mail.outbox == []
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()


# --- confirm --------------------------------------------------------------------------


def test_confirm_returns_backup_codes_once_and_makes_the_method_primary(
    user: Any, api_client: APIClient
) -> None:
    api_client.post("/auth/email/activate/")
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200
    assert no_store(response)
    codes = response.json()["backup_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    method = MFAMethod.objects.get(user=user, name="email")
    assert (method.is_active, method.is_primary) == (True, True)
    assert BackupCode.objects.filter(user=user).count() == 10


def test_confirm_without_activate(user: Any, api_client: APIClient) -> None:
    response = api_client.post("/auth/email/activate/confirm/", {"code": "123456"})
    assert_error(response, 400, "mfa_method_does_not_exist")


def test_confirm_unknown_method_comes_before_the_code(user: Any, api_client: APIClient) -> None:
    for code in ("123456", "x"):
        response = api_client.post("/auth/nope/activate/confirm/", {"code": code})
        assert_error(response, 400, "mfa_method_does_not_exist")


def test_confirm_an_active_method_is_a_state_error_before_the_code(
    email_mfa_user: ActivatedUser, api_client: APIClient
) -> None:
    for code in ("123456", "x"):
        response = api_client.post("/auth/email/activate/confirm/", {"code": code})
        assert_error(response, 400, "method_already_active")


def test_confirm_wrong_code_keeps_the_method_pending(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/email/activate/")
    right = last_code()
    wrong = "000000" if right != "000000" else "111111"
    response = api_client.post("/auth/email/activate/confirm/", {"code": wrong})
    assert_error(response, 400, "code_invalid_or_expired")
    assert not MFAMethod.objects.get(user=user).is_active
    assert not BackupCode.objects.exists()
    assert api_client.post("/auth/email/activate/confirm/", {"code": right}).status_code == 200


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", ""])
def test_confirm_malformed_code_is_a_field_error(
    user: Any, api_client: APIClient, code: str
) -> None:
    api_client.post("/auth/email/activate/")
    assert_field_error(api_client.post("/auth/email/activate/confirm/", {"code": code}), "code")
    assert not MFAMethod.objects.get(user=user).is_active


def test_confirm_missing_code_is_a_field_error(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/email/activate/")
    assert_field_error(api_client.post("/auth/email/activate/confirm/", {}), "code")


@pytest.mark.parametrize(("elapsed", "status"), [(899, 200), (901, 400)])
def test_confirm_after_the_activation_window(
    user: Any,
    api_client: APIClient,
    trench_auth: Callable[..., dict[str, Any]],
    time_machine: Any,
    elapsed: int,
    status: int,
) -> None:
    # A code lifetime above the window, so only the 15-minute window can expire.
    trench_auth(methods={"email": {"VALIDITY_PERIOD": 1200}})
    time_machine.move_to(NOON, tick=False)
    api_client.post("/auth/email/activate/")
    time_machine.shift(timedelta(seconds=elapsed))
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    if status == 200:
        assert response.status_code == 200
    else:
        assert_error(response, 400, "code_invalid_or_expired")
        assert not MFAMethod.objects.get(user=user).is_active


def test_second_method_returns_no_backup_codes(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    _, codes = two_email_user
    assert len(codes) == 10
    assert BackupCode.objects.filter(user=user).count() == 10
    email2 = MFAMethod.objects.get(user=user, name="email2")
    assert (email2.is_active, email2.is_primary) == (True, False)


# --- deactivate -----------------------------------------------------------------------


def test_deactivate_unknown_method(email_mfa_user: ActivatedUser, api_client: APIClient) -> None:
    response = api_client.post("/auth/nope/deactivate/", {"code": "123456"})
    assert_error(response, 400, "mfa_method_does_not_exist")
    # django-trench reports it as an error of the code field.
    assert response.json() == {"code": ["Requested MFA method does not exist."]}


def test_deactivate_a_method_never_started(
    user: Any, api_client: APIClient, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    trench_auth(methods={"email2": EMAIL2})
    response = api_client.post("/auth/email2/deactivate/", {"code": "123456"})
    assert_error(response, 400, "mfa_method_does_not_exist")


def test_deactivate_a_pending_method(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/email/activate/")
    response = api_client.post("/auth/email/deactivate/", {"code": "123456"})
    assert_error(response, 400, "not_enabled")


def test_deactivate_primary_while_another_is_active(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    # The state error wins over a wrong or even a right code.
    response = api_client.post("/auth/email/deactivate/", {"code": "000000"})
    assert_error(response, 400, "deactivation_of_primary")
    code = action_code(api_client, "email")
    response = api_client.post("/auth/email/deactivate/", {"code": code})
    assert_error(response, 400, "deactivation_of_primary")
    assert MFAMethod.objects.get(user=user, name="email").is_active


def test_deactivate_needs_a_code_by_default(
    email_mfa_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    # django-trench's answers: the code field is required, and never blank.
    assert api_client.post("/auth/email/deactivate/").json() == {
        "code": ["This field is required."]
    }
    blank = api_client.post("/auth/email/deactivate/", {"code": ""})
    assert blank.json() == {"code": ["This field may not be blank."]}
    response = api_client.post("/auth/email/deactivate/", {"code": "000000"})
    assert_error(response, 400, "code_invalid_or_expired")
    assert MFAMethod.objects.get(user=user).is_active


def test_deactivate_with_a_code_of_the_method(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    code = action_code(api_client, "email2")
    response = api_client.post("/auth/email2/deactivate/", {"code": code})
    assert response.status_code == 204
    assert not MFAMethod.objects.get(user=user, name="email2").is_active
    # Another method is still active: the backup codes stay.
    assert BackupCode.objects.filter(user=user).count() == 10


def test_deactivate_with_a_backup_code(
    email_mfa_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    _, codes = email_mfa_user
    response = api_client.post("/auth/email/deactivate/", {"code": codes[0]})
    assert response.status_code == 204
    assert not MFAMethod.objects.get(user=user).is_active


def test_deactivate_without_code_when_not_required(
    email_mfa_user: ActivatedUser, api_client: APIClient, trench_auth: Callable[..., Any], user: Any
) -> None:
    trench_auth(CONFIRM_DISABLE_WITH_CODE=False)
    assert api_client.post("/auth/email/deactivate/").status_code == 204
    assert not MFAMethod.objects.get(user=user).is_active


def test_deactivating_the_last_method_turns_mfa_off(
    email_mfa_user: ActivatedUser,
    api_client: APIClient,
    anon_client: APIClient,
    flavour: Flavour,
) -> None:
    user, _ = email_mfa_user
    code = action_code(api_client)
    assert api_client.post("/auth/email/deactivate/", {"code": code}).status_code == 204
    assert not BackupCode.objects.filter(user=user).exists()
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()
    method = MFAMethod.objects.get(user=user)
    assert (method.is_active, method.is_primary) == (False, False)
    assert set(start_login(anon_client, flavour, user)) == flavour.token_keys
    assert api_client.get("/auth/mfa/user-active-methods/").json() == []


def test_reactivating_after_turning_mfa_off_returns_a_new_set(
    email_mfa_user: ActivatedUser, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(CONFIRM_DISABLE_WITH_CODE=False)
    _, old = email_mfa_user
    api_client.post("/auth/email/deactivate/")
    new = activate(api_client)
    assert len(new) == 10 and not set(new) & set(old)


# --- regenerate -----------------------------------------------------------------------


def test_regenerate_disabled(
    email_mfa_user: ActivatedUser, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(ALLOW_BACKUP_CODES_REGENERATION=False)
    response = api_client.post("/auth/email/codes/regenerate/", {"code": action_code(api_client)})
    assert_error(response, 400, "backup_codes_regeneration_disabled")
    # django-trench checks the setting before the method and the body.
    unknown = api_client.post("/auth/nope/codes/regenerate/")
    assert_error(unknown, 400, "backup_codes_regeneration_disabled")


def test_regenerate_errors(user: Any, api_client: APIClient) -> None:
    body = {"code": "123456"}
    unknown = api_client.post("/auth/nope/codes/regenerate/", body)
    assert_error(unknown, 400, "mfa_method_does_not_exist")
    never = api_client.post("/auth/email/codes/regenerate/", body)
    assert_error(never, 400, "mfa_method_does_not_exist")
    api_client.post("/auth/email/activate/")
    assert_error(api_client.post("/auth/email/codes/regenerate/", body), 400, "not_enabled")


def test_regenerate_needs_a_code_by_default(
    email_mfa_user: ActivatedUser, api_client: APIClient
) -> None:
    missing = api_client.post("/auth/email/codes/regenerate/")
    assert missing.json() == {"code": ["This field is required."]}
    response = api_client.post("/auth/email/codes/regenerate/", {"code": "000000"})
    assert_error(response, 400, "code_invalid_or_expired")


def test_regenerate_replaces_the_whole_set(
    email_mfa_user: ActivatedUser,
    api_client: APIClient,
    anon_client: APIClient,
    flavour: Flavour,
) -> None:
    user, old = email_mfa_user
    response = api_client.post("/auth/email/codes/regenerate/", {"code": action_code(api_client)})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    new = response.json()["backup_codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert BackupCode.objects.filter(user=user).count() == 10
    for code in (old[0], old[-1]):
        token = start_login(anon_client, flavour, user)["ephemeral_token"]
        response = anon_client.post(flavour.code, {"ephemeral_token": token, "code": code})
        assert_error(response, 401, "invalid_code")
    token = start_login(anon_client, flavour, user)["ephemeral_token"]
    response = anon_client.post(flavour.code, {"ephemeral_token": token, "code": new[3]})
    assert response.status_code == 200


def test_regenerate_without_code_when_not_required(
    email_mfa_user: ActivatedUser, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE=False)
    response = api_client.post("/auth/email/codes/regenerate/")
    assert response.status_code == 200 and len(response.json()["backup_codes"]) == 10


def test_regenerate_through_any_method_replaces_the_users_set(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    _, old = two_email_user
    code = action_code(api_client, "email2")
    response = api_client.post("/auth/email2/codes/regenerate/", {"code": code})
    assert response.status_code == 200
    assert BackupCode.objects.filter(user=user).count() == 10
    # The old set is gone: one of its codes no longer confirms an action.
    response = api_client.post("/auth/email/codes/regenerate/", {"code": old[0]})
    assert_error(response, 400, "code_invalid_or_expired")


def test_regenerate_with_a_backup_code_uses_it_up(
    email_mfa_user: ActivatedUser, api_client: APIClient
) -> None:
    _, old = email_mfa_user
    response = api_client.post("/auth/email/codes/regenerate/", {"code": old[0]})
    assert response.status_code == 200


# --- code/request ---------------------------------------------------------------------


def test_request_code_defaults_to_the_primary(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    response = api_client.post("/auth/code/request/")
    assert response.status_code == 200
    assert response.json() == {"details": "Email message with MFA code has been sent."}
    live = OneTimeCode.objects.get(consumed_at__isnull=True)
    assert (live.method.name, live.purpose) == ("email", "action")
    api_client.post("/auth/code/request/", {"method": "email2"})
    live = OneTimeCode.objects.get(consumed_at__isnull=True, method__name="email2")
    assert live.purpose == "action"


def test_request_code_errors(
    user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email2": EMAIL2})
    # django-trench: no primary method "does not exist"; an unknown name is
    # an error of the method field.
    assert_error(api_client.post("/auth/code/request/"), 400, "mfa_method_does_not_exist")
    unknown = api_client.post("/auth/code/request/", {"method": "nope"})
    assert unknown.json() == {"method": ["Requested MFA method does not exist."]}
    response = api_client.post("/auth/code/request/", {"method": "email2"})
    assert_error(response, 400, "mfa_method_does_not_exist")
    api_client.post("/auth/email2/activate/")
    assert_error(api_client.post("/auth/code/request/", {"method": "email2"}), 400, "not_enabled")


# --- active methods -------------------------------------------------------------------


def test_active_methods_list_names_and_primary_flag_only(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    _, codes = two_email_user
    api_client.post("/auth/code/request/")
    response = api_client.get("/auth/mfa/user-active-methods/")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "email", "is_primary": True},
        {"name": "email2", "is_primary": False},
    ]
    text = response.content.decode()
    secrets = [*codes, last_code(), *OneTimeCode.objects.values_list("code_hash", flat=True)]
    secrets += list(BackupCode.objects.values_list("code_hash", flat=True))
    assert not [s for s in secrets if s in text]


def test_active_methods_list_skips_pending_and_unconfigured(
    two_email_user: ActivatedUser, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email3": EMAIL2})
    api_client.post("/auth/email3/activate/")
    names = [m["name"] for m in api_client.get("/auth/mfa/user-active-methods/").json()]
    assert names == ["email", "email2"]
    trench_auth(replace_methods={"email": {}})
    assert api_client.get("/auth/mfa/user-active-methods/").json() == [
        {"name": "email", "is_primary": True}
    ]


# --- change primary -------------------------------------------------------------------


def test_change_primary_with_a_code_of_the_current_primary(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    code = action_code(api_client)  # primary: email
    response = api_client.post(
        "/auth/mfa/change-primary-method/", {"method": "email2", "code": code}
    )
    assert response.status_code == 204
    # In the order the methods were added, as django-trench lists them.
    assert api_client.get("/auth/mfa/user-active-methods/").json() == [
        {"name": "email", "is_primary": False},
        {"name": "email2", "is_primary": True},
    ]


def test_change_primary_with_a_code_of_the_target_fails(
    two_email_user: ActivatedUser, api_client: APIClient, user: Any
) -> None:
    code = action_code(api_client, "email2")
    response = api_client.post(
        "/auth/mfa/change-primary-method/", {"method": "email2", "code": code}
    )
    assert_error(response, 400, "code_invalid_or_expired")
    assert MFAMethod.objects.get(user=user, is_primary=True).name == "email"


def test_change_primary_errors_in_order(
    email_mfa_user: ActivatedUser, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(methods={"email2": EMAIL2})
    url = "/auth/mfa/change-primary-method/"
    # django-trench's order: the body's fields (both required, the method a
    # configured name), the current primary's code, then the new method.
    assert api_client.post(url, {"method": "nope"}).json() == {
        "code": ["This field is required."],
        "method": ['"nope" is not a valid choice.'],
    }
    assert_field_error(api_client.post(url, {"code": "123456"}), "method")
    response = api_client.post(url, {"method": "email2", "code": action_code(api_client)})
    assert_error(response, 400, "mfa_method_does_not_exist")
    assert set(response.json()) == {"error", "error_code"}
    api_client.post("/auth/email2/activate/", {"code": action_code(api_client)})
    response = api_client.post(url, {"method": "email2", "code": "000000"})
    assert response.json() == {"code": ["Code invalid or expired."]}
    response = api_client.post(url, {"method": "email2", "code": action_code(api_client)})
    assert_error(response, 400, "new_primary_method_inactive")


def test_change_primary_without_mfa(user: Any, api_client: APIClient) -> None:
    response = api_client.post("/auth/mfa/change-primary-method/", {"method": "email", "code": "1"})
    # django-trench's bare list of messages.
    assert response.status_code == 400
    assert response.json() == ["Requested MFA method does not exist."]


def test_change_primary_to_itself(email_mfa_user: ActivatedUser, api_client: APIClient) -> None:
    code = action_code(api_client)
    response = api_client.post(
        "/auth/mfa/change-primary-method/", {"method": "email", "code": code}
    )
    assert response.status_code == 204
    assert api_client.get("/auth/mfa/user-active-methods/").json() == [
        {"name": "email", "is_primary": True}
    ]

"""SECURITY-CHECKLIST sections K (two-step login) and L (method management)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest
import time_machine
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import (
    EMAIL2,
    FLAVOURS,
    Flavour,
    activate,
    assert_error,
    credentials,
    last_code,
    login_body,
)
from tests.lockout.conftest import answer, login, shift

# Fixtures shared with tests/lockout.
from tests.lockout.conftest import clock as clock
from tests.lockout.conftest import email_user as email_user
from tests.lockout.conftest import two_methods as two_methods
from trench_mfa import signals
from trench_mfa.models import BackupCode, LoginChallenge, MFAMethod

pytestmark = pytest.mark.django_db

JWT = FLAVOURS[0]
MANAGEMENT = [
    ("post", "/auth/email/activate/"),
    ("post", "/auth/email/activate/confirm/"),
    ("post", "/auth/email/deactivate/"),
    ("post", "/auth/email/codes/regenerate/"),
    ("post", "/auth/code/request/"),
    ("get", "/auth/mfa/user-active-methods/"),
    ("post", "/auth/mfa/change-primary-method/"),
]


class CountingHasher(PBKDF2PasswordHasher):
    """PBKDF2 with few iterations that counts how often it hashes."""

    algorithm = "counting_pbkdf2"
    iterations = 1000
    calls: ClassVar[list[str]] = []

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        """Hash, and count it."""
        self.calls.append("encode")
        return super().encode(password, salt, iterations)


# --- K. Two-step login and the ephemeral token ---------------------------------


def test_item_62_step_one_returns_only_a_challenge_when_mfa_is_on(
    email_user: Any, anon_client: APIClient, user_factory: Callable[..., Any], flavour: Flavour
) -> None:
    user, _ = email_user
    body = anon_client.post(flavour.login, credentials(user)).json()
    assert set(body) == {"ephemeral_token", "method", "other_methods", "factors_remaining"}
    assert body["method"] == "email"
    plain = user_factory(username="nomfa")
    assert set(anon_client.post(flavour.login, credentials(plain)).json()) == flavour.token_keys


def test_item_63_step_one_errors_are_generic_and_cost_one_hash_each(
    user_factory: Callable[..., Any], anon_client: APIClient, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    # USER_ACTIVE_FIELD other than is_active: checked after the password.
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "USER_ACTIVE_FIELD": "is_staff"}
    user_factory(username="known", is_staff=True)
    user_factory(username="sleeper", is_active=False, is_staff=True)
    user_factory(username="benched", is_staff=False)
    cases = {
        "unknown user": login_body("nobody", "whatever"),
        "wrong password": login_body("known", "whatever"),
        "inactive user": login_body("sleeper"),  # the right password
        "USER_ACTIVE_FIELD false": login_body("benched"),  # the right password
    }
    seen = set()
    for name, body in cases.items():
        CountingHasher.calls.clear()
        response = anon_client.post(JWT.login, body)
        seen.add((response.status_code, response.content))
        assert CountingHasher.calls == ["encode"], name  # exactly one hash
    expected = b'{"error":"Unable to login with provided credentials.",'
    assert seen == {(400, expected + b'"error_code":"unauthenticated"}')}


def test_item_63_step_one_has_its_own_rate_limit(anon_client: APIClient) -> None:
    from rest_framework.settings import api_settings

    assert api_settings.DEFAULT_THROTTLE_RATES["trench_mfa_login"] == "10/min"
    for n in range(10):
        anon_client.post(JWT.login, login_body(f"guess{n}", "x"))
    assert_error(anon_client.post(JWT.login, login_body("guess", "x")), 429, "throttled")


def test_item_64_ephemeral_token_lifetime(
    email_user: Any,
    anon_client: APIClient,
    clock: time_machine.Coordinates,
    trench_auth: Callable[..., Any],
) -> None:
    from trench_mfa.checks import check_settings
    from trench_mfa.conf import mfa_settings

    assert mfa_settings.EPHEMERAL_TOKEN_VALIDITY == 600
    user, _ = email_user
    for age, status in ((599, 200), (601, 401)):
        token = login(anon_client, user)
        shift(clock, 590)  # a fresh code (codes live 300 s) for the old token
        assert anon_client.post(JWT.resend, {"ephemeral_token": token}).status_code == 200
        shift(clock, age - 590)
        assert answer(anon_client, token, last_code()).status_code == status
        shift(clock, 61)
    trench_auth(EPHEMERAL_TOKEN_VALIDITY=901)  # the ceiling is 900 s
    assert "trench_mfa.E006" in [m.id for m in check_settings()]


@pytest.mark.parametrize("scheme", ["Bearer", "Token"])
def test_item_65_the_ephemeral_token_is_for_step_two_only(
    email_user: Any, anon_client: APIClient, scheme: str, user_factory: Callable[..., Any]
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    intruder = APIClient()
    intruder.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    for method, path in MANAGEMENT:
        assert getattr(intruder, method)(path).status_code == 401, path
    # A real access token is no ephemeral token.
    plain = user_factory(username="nomfa")
    tokens = anon_client.post(JWT.login, credentials(plain)).json()
    assert_error(answer(anon_client, tokens["access"], "123456"), 401, "invalid_token")


def test_item_66_the_token_is_single_use_and_dies_early(
    email_user: Any, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(RESEND_COOLDOWN=0)
    user, _ = email_user
    token = login(anon_client, user)
    code = last_code()
    assert answer(anon_client, token, code).status_code == 200
    assert_error(answer(anon_client, token, code), 401, "invalid_token")  # replay
    token = login(anon_client, user)
    user.set_password("another-password-2026")
    user.save()
    assert_error(answer(anon_client, token, last_code()), 401, "invalid_token")  # password


def test_item_67_a_tampered_token_is_the_same_401(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    user, _ = email_user
    token = login(anon_client, user)
    code = last_code()
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    other_id = str(int(token.split(".")[0]) + 1) + token[token.index(".") :]
    bodies = {
        answer(anon_client, candidate, code).content
        for candidate in (flipped, token[:-5], other_id, "", "x" * 10_000)
        if candidate
    }
    assert bodies == {b'{"error":"Invalid or expired token.","error_code":"invalid_token"}'}
    assert LoginChallenge.objects.get().failed_attempts == 0
    assert answer(anon_client, token, code).status_code == 200


def test_item_68_step_two_issues_fresh_tokens(
    email_user: Any, anon_client: APIClient, flavour: Flavour
) -> None:
    user, _ = email_user
    token = anon_client.post(flavour.login, credentials(user)).json()["ephemeral_token"]
    body = anon_client.post(flavour.code, {"ephemeral_token": token, "code": last_code()}).json()
    assert set(body) == flavour.token_keys and token not in body.values()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=flavour.authorization(body))
    assert client.get("/auth/mfa/user-active-methods/").status_code == 200


def test_item_69_step_two_checks_only_the_named_method(
    two_methods: Any, anon_client: APIClient
) -> None:
    user, backup = two_methods
    token = login(anon_client, user)  # the primary (email) was challenged
    code = last_code()
    assert answer(anon_client, token, code, method="email2").status_code == 401
    assert MFAMethod.objects.get(user=user, name="email").failure_count == 0
    assert answer(anon_client, token, code).status_code == 200  # default: the primary
    # Backup codes: the same path, in place of the named (or primary) method.
    assert answer(anon_client, login(anon_client, user), backup[0]).status_code == 200


# --- L. Method management ----------------------------------------------------------


def test_item_70_management_needs_a_fully_authenticated_user(
    email_user: Any, anon_client: APIClient
) -> None:
    for method, path in MANAGEMENT:
        assert getattr(anon_client, method)(path).status_code == 401, path
    # The ephemeral token is not enough: test_item_65.


def test_item_71_sensitive_changes_need_a_current_code(
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


def test_item_71_adding_a_method_needs_a_code_of_the_primary_or_a_backup_code(
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


def test_item_71_activations_started_without_mfa_start_over_once_it_is_on(
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


def test_item_71_an_app_primary_confirms_with_its_code(user: Any, api_client: APIClient) -> None:
    from tests.app.conftest import activate_app, totp_from_uri

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


def test_item_71_only_configured_methods_count_and_none_fails_closed(
    email_user: Any, api_client: APIClient
) -> None:
    # MFA is on with a method that is no longer configured: as at login, no
    # method can be added on the strength of the session alone.
    user, _ = email_user
    MFAMethod.objects.filter(user=user).update(name="retired")
    response = api_client.post("/auth/app/activate/")
    assert_error(response, 400, "mfa_method_does_not_exist")
    assert not MFAMethod.objects.filter(user=user, name="app").exists()


def test_item_71_the_check_can_be_turned_off(
    email_user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    # django-trench's behaviour, for projects that re-authenticate otherwise.
    trench_auth(methods={"email2": EMAIL2}, CONFIRM_ACTIVATION_WITH_CODE=False)
    assert api_client.post("/auth/email2/activate/").status_code == 200
    assert (
        api_client.post("/auth/email2/activate/confirm/", {"code": last_code()}).status_code == 200
    )
    assert api_client.get("/auth/mfa/config/").json()["confirm_activation_with_code"] is False


def test_item_72_a_user_cannot_touch_another_users_method_of_the_same_name(
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


def test_item_73_one_row_per_user_and_method(email_user: Any, api_client: APIClient) -> None:
    user, _ = email_user
    assert_error(api_client.post("/auth/email/activate/"), 400, "method_already_active")
    assert MFAMethod.objects.filter(user=user, name="email").count() == 1


def test_item_74_exactly_one_primary_and_the_last_method_turns_mfa_off(
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


def test_item_75_changes_are_announced_for_notification(
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
        signal.connect(receivers[name], weak=False, dispatch_uid=f"item75-{name}")
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
            signal.disconnect(dispatch_uid=f"item75-{name}")
    assert seen == [
        "added",
        "added",
        "primary",
        "backup used",
        "regenerated",
        "backup used",
        "removed",
    ]


def test_item_76_at_most_one_method_per_configured_backend(
    email_user: Any, api_client: APIClient
) -> None:
    from trench_mfa.conf import mfa_settings

    user, _ = email_user
    assert_error(api_client.post("/auth/nope/activate/"), 400, "mfa_method_does_not_exist")
    api_client.post("/auth/email/activate/")
    assert MFAMethod.objects.filter(user=user).count() <= len(mfa_settings.methods)


def test_item_77_no_shortcut_past_mfa_when_factors_are_lost(
    email_user: Any, api_client: APIClient
) -> None:
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

"""Authentication and authorization of the management endpoints.

Methods are addressed by name for the authenticated user, so "user A acting
on user B's method" (a 404 in an API with object ids) means here: A's
request answers as if the method were A's own (not enabled / does not
exist) and B's state does not move. The one object id in a URL, a WebAuthn
key's (``credentials/<id>/``), is looked up among the user's own keys only
(``tests/webauthn/test_credentials.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import MESSAGES, assert_error, error_of
from tests.input_validation.conftest import Scene, takeover_fields
from tests.input_validation.endpoints import ENDPOINTS
from tests.input_validation.invariants import assert_rejected
from trench_mfa.models import BackupCode, MFAMethod

pytestmark = pytest.mark.django_db

#: Every endpoint of ``trench_mfa.urls`` that needs a logged-in user.
MANAGEMENT = [
    ("post", "/auth/email2/activate/"),
    ("post", "/auth/email2/activate/confirm/"),
    ("post", "/auth/email/deactivate/"),
    ("post", "/auth/email/codes/regenerate/"),
    ("post", "/auth/code/request/"),
    ("post", "/auth/mfa/change-primary-method/"),
    ("get", "/auth/mfa/user-active-methods/"),
    ("post", "/auth/hardcode/"),
    ("post", "/auth/verification/request/"),
    ("post", "/auth/verification/email/confirm/"),
    ("post", "/auth/token/logout/"),
    ("get", "/auth/devices/"),
    ("delete", "/auth/devices/1/"),
    # WebAuthn keys: the list, and one key (rename and remove share the route).
    ("get", "/auth/webauthn/credentials/"),
    ("delete", "/auth/webauthn/credentials/1/"),
]


def _body(scene: Scene, path: str) -> dict[str, Any]:
    if "confirm" in path:
        return {"code": scene.confirm_code}
    if "change-primary" in path:
        return {"method": "email", "code": scene.action_code}
    return {"code": scene.action_code}


@pytest.mark.parametrize(("verb", "path"), MANAGEMENT, ids=lambda v: str(v))
def test_management_endpoints_without_authentication(scene: Scene, verb: str, path: str) -> None:
    before = scene.snapshot()
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer"}, {"HTTP_AUTHORIZATION": "Token "}):
        response = getattr(APIClient(), verb)(path, _body(scene, path), format="json", **headers)
        assert_rejected(scene, response, before, statuses=(401,))


@pytest.mark.parametrize(("verb", "path"), MANAGEMENT, ids=lambda v: str(v))
def test_the_ephemeral_token_as_bearer_or_token_credential(
    scene: Scene, verb: str, path: str
) -> None:
    before = scene.snapshot()
    for scheme in ("Bearer", "Token", "JWT"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {scene.token}")
        response = getattr(client, verb)(path, _body(scene, path), format="json")
        assert_rejected(scene, response, before, statuses=(401,))


def test_an_access_token_as_the_ephemeral_token(scene: Scene) -> None:
    issued = scene.real_tokens()
    login_endpoints = [e for e in ENDPOINTS if "ephemeral_token" in e.fields]
    before = scene.snapshot()
    for endpoint in login_endpoints:
        for value in issued:
            response = scene.post(endpoint, scene.spoil(endpoint, "ephemeral_token", value))
            assert_rejected(scene, response, before, statuses=(401,))
            assert response.json()["error_code"] == "invalid_token"


def test_user_a_acting_on_user_b_method(
    scene: Scene, user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    bob = client_for(user_factory(username="bob"))
    before = scene.snapshot()
    for path, body in [
        ("/auth/email/deactivate/", {"code": scene.action_code}),
        ("/auth/email/codes/regenerate/", {"code": scene.action_code}),
        ("/auth/email2/activate/confirm/", {"code": scene.confirm_code}),
        ("/auth/mfa/change-primary-method/", {"method": "email", "code": scene.action_code}),
        ("/auth/code/request/", {"method": "email"}),
    ]:
        response = bob.post(path, body, format="json")
        assert_rejected(scene, response, before)
        # Any shape: django-trench's field error of the code, its bare list
        # on change-primary-method, the envelope on code/request/.
        assert error_of(response)[0] in (
            "mfa_method_does_not_exist",
            "not_enabled",
            "new_primary_method_inactive",
        ), response.content
    assert bob.get("/auth/mfa/user-active-methods/").json() == []


def test_activating_an_already_active_method(scene: Scene) -> None:
    before = scene.snapshot()
    response = scene.client.post("/auth/email/activate/")
    assert_rejected(scene, response, before)
    assert response.json()["error_code"] == "method_already_active"
    assert MFAMethod.objects.filter(user=scene.user, name="email").count() == 1


def test_confirming_a_method_that_is_not_pending(scene: Scene, time_machine: Any) -> None:
    before = scene.snapshot()
    for name, code, error in [
        ("email", scene.action_code, "method_already_active"),
        ("app", "123456", "mfa_method_does_not_exist"),
        ("sms", "123456", "mfa_method_does_not_exist"),
    ]:
        response = scene.client.post(f"/auth/{name}/activate/confirm/", {"code": code})
        assert_rejected(scene, response, before)
        assert response.json() == {"code": [MESSAGES[error]]}  # a field error of the code
        assert_error(response, 400, error)
    # A pending activation older than ACTIVATION_VALIDITY is no longer pending.
    time_machine.move_to(timezone.now() + timedelta(seconds=901), tick=False)
    response = scene.client.post("/auth/email2/activate/confirm/", {"code": scene.confirm_code})
    assert_rejected(scene, response, before)
    assert response.json() == {"code": [MESSAGES["code_invalid_or_expired"]]}
    assert_error(response, 400, "code_invalid_or_expired")


def test_deactivating_the_primary_while_others_exist(scene: Scene) -> None:
    MFAMethod.objects.filter(user=scene.user, name="email2").update(
        is_active=True, activation_started_at=None
    )
    before = scene.snapshot()
    response = scene.client.post("/auth/email/deactivate/", {"code": scene.action_code})
    assert_rejected(scene, response, before)
    assert response.json()["error_code"] == "deactivation_of_primary"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/email2/deactivate/", {}),
        ("/auth/email/codes/regenerate/", {}),
        ("/auth/mfa/change-primary-method/", {"method": "email2"}),
        ("/auth/app/activate/", {}),  # adding a method
    ],
)
def test_protected_action_without_a_valid_current_code(
    scene: Scene, path: str, body: dict[str, Any], trench_auth: Callable[..., Any]
) -> None:
    trench_auth(THROTTLE_FACTOR=0)  # several wrong codes in a row: no back-off here
    MFAMethod.objects.filter(user=scene.user, name="email2").update(
        is_active=True, activation_started_at=None
    )
    methods = list(MFAMethod.objects.order_by("pk").values("name", "is_active", "is_primary"))
    backup = list(BackupCode.objects.order_by("pk").values_list("code_hash", "used_at"))
    wrong = "000000" if scene.action_code != "000000" else "111111"
    # Adding a method takes an optional code, refused by the
    # service in the envelope; the others read the code as django-trench
    # does: required (CONFIRM_*_WITH_CODE is on by default), and every error
    # about it is a field error of the code.
    adding = path.endswith("/activate/")
    if adding:
        absent = blank = ("otp_code_missing", "OTP code not provided.")
    else:
        absent = ("required", "This field is required.")
        blank = ("blank", "This field may not be blank.")
    wrong_code = ("code_invalid_or_expired", "Code invalid or expired.")
    for code, (error, message) in [
        (None, absent),
        ("", blank),
        (wrong, wrong_code),
        (scene.login_code, wrong_code),  # a code of another purpose
        (scene.confirm_code, wrong_code),  # of another method
        ("zzzzzzzzzzzz", wrong_code),  # a wrong backup code
    ]:
        payload = dict(body) if code is None else {**body, "code": code}
        response = scene.client.post(path, payload, format="json")
        assert_error(response, 400, error, message)
        shape = {"error": message, "error_code": error} if adding else {"code": [message]}
        assert response.json() == shape
        assert (
            list(MFAMethod.objects.order_by("pk").values("name", "is_active", "is_primary"))
            == methods
        )
        assert list(BackupCode.objects.order_by("pk").values_list("code_hash", "used_at")) == (
            backup
        )


def test_extra_fields_are_ignored(scene: Scene, bob: Any) -> None:
    extras = takeover_fields(
        bob,
        is_primary=True,
        secret="JBSWY3DPEHPK3PXP",
        backup_codes=["aaaaaaaaaaaa"],
        name="app",
        id=1,
    )
    # With MFA on, a code of the primary confirms adding a method.
    body = {**extras, "code": scene.backup_codes[3]}
    response = scene.client.post("/auth/sms/activate/", body, format="json")
    assert response.status_code == 200, response.content
    sms = MFAMethod.objects.get(name="sms")
    assert (sms.user_id, sms.is_active, sms.is_primary) == (scene.user.pk, False, False)
    response = scene.client.post(
        "/auth/email2/activate/confirm/", {**extras, "code": scene.confirm_code}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"backup_codes": []}  # alice already has a set
    email2 = MFAMethod.objects.get(name="email2")
    assert (email2.user_id, email2.is_active, email2.is_primary) == (scene.user.pk, True, False)
    assert email2.secret != extras["secret"]
    assert not MFAMethod.objects.filter(user=bob).exists()
    assert BackupCode.objects.filter(user=scene.user).count() == len(scene.backup_codes)
    response = scene.client.post(
        "/auth/email/codes/regenerate/", {**extras, "code": scene.action_code}, format="json"
    )
    assert response.status_code == 200, response.content
    assert "aaaaaaaaaaaa" not in response.json()["backup_codes"]
    assert not BackupCode.objects.filter(user=bob).exists()


def test_every_management_endpoint_is_listed(scene: Scene) -> None:
    # The table above must follow the URLconf: one entry per named route.
    from django.urls import get_resolver

    names = {
        p.name
        for p in get_resolver("trench_mfa.urls").url_patterns
        if p.name and p.name not in ("mfa-config-info", "mfa-verification-link")
    }
    assert len(names) == len(MANAGEMENT) - 1  # logout lives in urls.authtoken

"""With ``DEBUG = True``, Django's error page of a failing MFA request shows no secret.

Each test makes one sensitive request fail deep inside (a crashing signal
receiver, email backend, password hasher, QR or token library) while the
secrets of that request are in the frames' local variables: the code, the
ephemeral token, the password, the hardcode, the TOTP secret, backup codes,
authtoken keys and JWTs. The technical 500 report (the HTML page and its
text rendering) is then searched for every one of them. The traceback and
the variables of other frames stay visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import qrcode
from django.db.models.signals import post_save
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.conftest import (
    EMAIL2,
    PASSWORD,
    ActivatedUser,
    Flavour,
    credentials,
    last_code,
    start_login,
)
from tests.error_reports.conftest import Failing, ForcedFailure
from tests.support.flows import PHONE, default_flows
from trench_mfa import signals
from trench_mfa.api import jwt as jwt_views
from trench_mfa.models import MFAMethod
from trench_mfa.services.hardcode import store_hardcode
from trench_mfa.state.secrets_at_rest import decrypt_secret

pytestmark = pytest.mark.django_db

HARDCODE = "pin-7Qx2-hardcode"
TOKEN_FLAVOUR = Flavour("token", "/auth/token/", {"auth_token"})
JWT_FLAVOUR = Flavour("jwt", "/auth/jwt/", {"refresh", "access"})


def with_header(client: APIClient, authorization: str) -> APIClient:
    """``client`` authenticated by an ``Authorization`` header instead."""
    client.credentials(HTTP_AUTHORIZATION=authorization)
    return client


def fresh_code(user: Any) -> str:
    """A current code of the user's primary (email) method, sent by ``code/request/``."""
    client = APIClient()
    client.force_authenticate(user)
    assert client.post("/auth/code/request/").status_code == 200
    return last_code()


# --- Login -------------------------------------------------------------------


@pytest.mark.parametrize("body_format", ["json", "multipart"])
def test_login_step_one(
    flavour: Flavour, body_format: str, email_mfa_user: ActivatedUser, failing: Failing
) -> None:
    # A form body is also in request.POST, which the report lists.
    user, _ = email_mfa_user
    failing.break_mail()
    page = failing.post(flavour.login, credentials(user), format=body_format)
    assert page.shown([PASSWORD, failing.tokens[-1], failing.codes[-1]]) == []


def test_login_with_a_failing_password_hasher(
    user: Any, failing: Failing, raising_hasher: None
) -> None:
    # The password is checked by Django's authenticate(), which marks only
    # its own "credentials" as sensitive; the backend's frames below it hold
    # the password under other names. The hasher fails while upgrading the
    # user's hash to the project's preferred one.
    page = failing.post("/auth/jwt/login/", credentials(user))
    assert "authenticate" in page.text
    assert page.shown([PASSWORD]) == []


@pytest.mark.parametrize("answer", ["code", "backup code"])
def test_login_step_two(
    flavour: Flavour, answer: str, email_mfa_user: ActivatedUser, failing: Failing
) -> None:
    user, backup = email_mfa_user
    token = start_login(APIClient(), flavour, user)["ephemeral_token"]
    code = last_code() if answer == "code" else backup[0]
    failing.crash_on(signals.code_verified if answer == "code" else signals.backup_code_used)
    page = failing.post(flavour.code, {"ephemeral_token": token, "code": code})
    assert page.shown([token, code, *backup]) == []


@pytest.mark.usefixtures("no_resend_cooldown")
def test_login_code_resend(
    flavour: Flavour, email_mfa_user: ActivatedUser, failing: Failing
) -> None:
    user, _ = email_mfa_user
    token = start_login(APIClient(), flavour, user)["ephemeral_token"]
    failing.break_mail()
    page = failing.post(flavour.resend, {"ephemeral_token": token})
    assert page.shown([token, failing.codes[-1]]) == []


def test_issuing_an_authtoken_key(email_mfa_user: ActivatedUser, failing: Failing) -> None:
    # A receiver of the project's that fails on the new key's row.
    user, _ = email_mfa_user
    token = start_login(APIClient(), TOKEN_FLAVOUR, user)["ephemeral_token"]
    code = last_code()
    saved = failing.crash_on(post_save, sender=Token)
    page = failing.post(TOKEN_FLAVOUR.code, {"ephemeral_token": token, "code": code})
    key = saved[0]["instance"].key
    assert page.shown([token, code, key]) == []


def test_issuing_jwts(
    email_mfa_user: ActivatedUser, failing: Failing, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, _ = email_mfa_user
    token = start_login(APIClient(), JWT_FLAVOUR, user)["ephemeral_token"]
    code = last_code()
    answered: dict[str, Any] = {}

    def failing_response(data: dict[str, Any], **kwargs: Any) -> Any:
        answered.update(data)
        raise ForcedFailure()

    monkeypatch.setattr(jwt_views, "Response", failing_response)
    page = failing.post(JWT_FLAVOUR.code, {"ephemeral_token": token, "code": code})
    assert set(answered) == {"refresh", "access"}
    assert page.shown([token, code, answered["refresh"], answered["access"]]) == []


def test_passwordless_login(
    verified_user: Any, flows_config: Callable[..., Any], failing: Failing
) -> None:
    flows_config(flows=[("email", "passcode")])
    failing.break_mail()
    page = failing.post("/auth/token/login/", {"email": verified_user.email})
    assert page.shown([failing.tokens[-1], failing.codes[-1]]) == []


def test_hardcode_login(
    verified_user: Any, flows_config: Callable[..., Any], failing: Failing
) -> None:
    flows_config(flows=default_flows())
    store_hardcode(verified_user, HARDCODE)
    failing.crash_on(signals.code_sent)
    page = failing.post("/auth/jwt/login/", {"phone_number": PHONE, "hardcode": HARDCODE})
    assert page.shown([HARDCODE, failing.tokens[-1], failing.codes[-1]]) == []


# --- Managing methods --------------------------------------------------------


def test_activating_an_authenticator_app(
    user: Any, failing: Failing, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The QR library fails while drawing the otpauth URI (it holds the seed).
    def fail(*args: Any, **kwargs: Any) -> None:
        raise ForcedFailure()

    monkeypatch.setattr(qrcode.QRCode, "make", fail)
    page = failing.post("/auth/app/activate/", user=user)
    seed = decrypt_secret(MFAMethod.objects.get(user=user, name="app").secret)
    assert page.shown([seed]) == []


def test_adding_a_method_with_a_code(
    email_mfa_user: ActivatedUser, failing: Failing, trench_auth: Callable[..., Any]
) -> None:
    user, _ = email_mfa_user
    trench_auth(methods={"email2": EMAIL2})
    code = fresh_code(user)
    failing.break_mail()
    page = failing.post("/auth/email2/activate/", {"code": code}, user=user)
    assert page.shown([code, failing.codes[-1]]) == []


def test_confirming_the_first_method(user: Any, failing: Failing) -> None:
    # Authenticated with an authtoken key, which the confirmation replaces.
    old = APIClient().post("/auth/token/login/", credentials(user)).json()["auth_token"]
    client = with_header(failing.browser(), f"Token {old}")
    assert client.post("/auth/email/activate/").status_code == 200
    code = last_code()
    failing.crash_on(signals.mfa_method_activated)
    page = failing.page(lambda: client.post("/auth/email/activate/confirm/", {"code": code}))
    new = Token.objects.get(user=user).key
    assert len(failing.backup_codes) == 10 and new != old
    assert page.shown([code, old, new, *failing.backup_codes]) == []


def test_regenerating_backup_codes(email_mfa_user: ActivatedUser, failing: Failing) -> None:
    user, old = email_mfa_user
    code = fresh_code(user)
    failing.crash_on(signals.backup_codes_regenerated)
    page = failing.post("/auth/email/codes/regenerate/", {"code": code}, user=user)
    assert len(failing.backup_codes) == 10
    assert page.shown([code, *old, *failing.backup_codes]) == []


def test_deactivating_a_method(email_mfa_user: ActivatedUser, failing: Failing) -> None:
    # Authenticated with a JWT from a login with a code.
    user, _ = email_mfa_user
    anon = APIClient()
    token = start_login(anon, JWT_FLAVOUR, user)["ephemeral_token"]
    tokens = anon.post(JWT_FLAVOUR.code, {"ephemeral_token": token, "code": last_code()}).json()
    code = fresh_code(user)
    failing.crash_on(signals.code_verified)
    client = with_header(failing.browser(), f"Bearer {tokens['access']}")
    page = failing.page(lambda: client.post("/auth/email/deactivate/", {"code": code}))
    assert page.shown([code, tokens["access"], tokens["refresh"]]) == []


@pytest.mark.parametrize(
    ("path", "fields", "hidden", "activated_user"),
    [
        ("/auth/mfa/change-primary-method/", {"method": "email2"}, [], "two_email_user"),
        ("/auth/hardcode/", {"hardcode": HARDCODE}, [HARDCODE], "email_mfa_user"),
    ],
    ids=["changing the primary method", "setting a hardcode with a code"],
)
def test_an_action_confirmed_with_a_code(
    path: str,
    fields: dict[str, str],
    hidden: list[str],
    activated_user: str,
    failing: Failing,
    request: pytest.FixtureRequest,
) -> None:
    # ``hidden``: the secrets of the body besides the code.
    user, _ = request.getfixturevalue(activated_user)
    code = fresh_code(user)
    failing.crash_on(signals.code_verified)
    page = failing.post(path, {**fields, "code": code}, user=user)
    assert page.shown([*hidden, code]) == []


def test_requesting_a_code(email_mfa_user: ActivatedUser, failing: Failing) -> None:
    user, _ = email_mfa_user
    failing.break_mail()
    page = failing.post("/auth/code/request/", user=user)
    assert page.shown([failing.codes[-1]]) == []


# --- Hardcodes and identifier verification -----------------------------------


def test_setting_a_hardcode_with_the_password(
    user: Any, failing: Failing, raising_hasher: None
) -> None:
    # The project's preferred password hasher fails.
    page = failing.post("/auth/hardcode/", {"hardcode": HARDCODE, "password": PASSWORD}, user=user)
    assert page.shown([HARDCODE, PASSWORD]) == []


def test_requesting_a_verification_code(
    user: Any, flows_config: Callable[..., Any], failing: Failing
) -> None:
    flows_config()
    failing.break_mail()
    page = failing.post("/auth/verification/request/", {"field": "email"}, user=user)
    assert page.shown([failing.codes[-1]]) == []


def test_confirming_an_identifier(
    user: Any, flows_config: Callable[..., Any], failing: Failing
) -> None:
    flows_config()
    client = APIClient()
    client.force_authenticate(user)
    assert client.post("/auth/verification/request/", {"field": "email"}).status_code == 200
    code = failing.codes[-1]
    failing.crash_on(signals.code_verified)
    page = failing.post("/auth/verification/email/confirm/", {"code": code}, user=user)
    assert page.shown([code]) == []

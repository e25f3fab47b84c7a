"""Login flows (``TRENCH_AUTH["FLOWS"]``): the ``amr`` and ``mfa_at`` claims of issued JWTs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, activate, last_code, start_activation, username_field
from tests.jwt_claims.conftest import JWT_LOGIN, NOW_TS, answer, claims, tokens_of
from tests.support.flows import PHONE, default_flows, sms_code
from tests.support.yubikey import FakeValidationServer, make_otp
from trench_mfa.models import LoginChallenge, MFAMethod
from trench_mfa.services import hardcode
from trench_mfa.state.secrets_at_rest import decrypt_secret


@pytest.fixture(autouse=True)
def _flows(flows_config: Callable[..., Any]) -> None:
    flows_config(flows=default_flows())


def step_one(body: dict[str, Any]) -> Any:
    """Login step 1 (JWT flavour) with a fresh anonymous client."""
    return APIClient().post(JWT_LOGIN, body)


def challenge(body: dict[str, Any]) -> str:
    """Step 1 that must answer with a challenge; its ephemeral token."""
    response = step_one(body)
    assert response.status_code == 200, response.content
    assert "ephemeral_token" in response.json(), response.json()
    return str(response.json()["ephemeral_token"])


def trench_claims(body: dict[str, Any]) -> dict[str, Any]:
    """The claims trench_mfa adds to the tokens in ``body``."""
    payload = claims(body)
    return {k: payload[k] for k in ("amr", "mfa_at") if k in payload}


def totp(user: Any) -> str:
    """The current code of ``user``'s authenticator app."""
    method = MFAMethod.objects.get(user=user, name="app")
    return pyotp.TOTP(decrypt_secret(method.secret)).now()


def test_password_flow_without_mfa(verified_user: Any) -> None:
    body = {username_field(): verified_user.get_username(), "password": PASSWORD}
    assert trench_claims(tokens_of(step_one(body))) == {"amr": ["pwd"]}


def test_password_flow_with_mfa_on_top(
    verified_user: Any, client_for: Callable[[Any], APIClient]
) -> None:
    activate(client_for(verified_user), "email")
    mail.outbox.clear()
    token = challenge({username_field(): verified_user.get_username(), "password": PASSWORD})
    assert trench_claims(tokens_of(answer(token, last_code()))) == {
        "amr": ["pwd", "otp", "mfa"],
        "mfa_at": NOW_TS,
    }


def test_passwordless_email_code(verified_user: Any) -> None:
    token = challenge({"email": "alice@example.com"})
    assert trench_claims(tokens_of(answer(token, last_code()))) == {
        "amr": ["otp"],
        "mfa_at": NOW_TS,
    }


def test_password_and_passcode(flows_config: Callable[..., Any], verified_user: Any) -> None:
    flows_config(flows=[("email", "password", "passcode")])
    token = challenge({"email": "alice@example.com", "password": PASSWORD})
    assert trench_claims(tokens_of(answer(token, last_code()))) == {
        "amr": ["pwd", "otp", "mfa"],
        "mfa_at": NOW_TS,
    }


def test_hardcode_and_sms_passcode(verified_user: Any) -> None:
    hardcode.store_hardcode(verified_user, "2468")
    token = challenge({"phone_number": PHONE, "hardcode": "2468"})
    assert trench_claims(tokens_of(answer(token, sms_code()))) == {
        "amr": ["pin", "otp", "sms", "mfa"],
        "mfa_at": NOW_TS,
    }


def test_password_and_hardcode_without_a_code_is_not_mfa(
    flows_config: Callable[..., Any], verified_user: Any
) -> None:
    flows_config(flows=[(username_field(), "password", "hardcode")])
    hardcode.store_hardcode(verified_user, "2468")
    body = {username_field(): verified_user.get_username(), "password": PASSWORD}
    response = step_one({**body, "hardcode": "2468"})
    assert trench_claims(tokens_of(response)) == {"amr": ["pwd", "pin"]}


def test_three_factors_mfa_at_is_the_last_code(
    flows_config: Callable[..., Any],
    verified_user: Any,
    client_for: Callable[[Any], APIClient],
    frozen: Any,
) -> None:
    flows_config(flows=[("email", "password", "passcode", "app")])
    client = client_for(verified_user)
    assert start_activation(client, "app").status_code == 200
    confirm = client.post("/auth/app/activate/confirm/", {"code": totp(verified_user)})
    assert confirm.status_code == 200, confirm.content
    frozen.shift(60)
    token = challenge({"email": "alice@example.com", "password": PASSWORD})
    second = answer(token, last_code())
    assert second.json()["method"] == "app"
    frozen.shift(45)
    assert trench_claims(tokens_of(answer(token, totp(verified_user)))) == {
        "amr": ["pwd", "otp", "mfa"],
        "mfa_at": NOW_TS + 105,
    }


@pytest.fixture
def yubi_flow_user(
    verified_user: Any,
    client_for: Callable[[Any], APIClient],
    yubicloud: FakeValidationServer,
    yubi_settings: Any,
    flows_config: Callable[..., Any],
) -> tuple[Any, list[str]]:
    """A verified user with a YubiKey, and the flow email + password + yubi + passcode."""
    flows_config(flows=[("email", "password", "yubi", "passcode")])
    client = client_for(verified_user)
    assert start_activation(client, "yubi").status_code == 200
    response = client.post("/auth/yubi/activate/confirm/", {"code": make_otp()})
    assert response.status_code == 200, response.content
    mail.outbox.clear()
    return verified_user, response.json()["backup_codes"]


def test_yubikey_then_passcode(yubi_flow_user: tuple[Any, list[str]]) -> None:
    token = challenge({"email": "alice@example.com", "password": PASSWORD})
    assert answer(token, make_otp()).json()["method"] == "email"
    assert LoginChallenge.objects.get().done == ["yubi"]
    assert trench_claims(tokens_of(answer(token, last_code()))) == {
        "amr": ["pwd", "hwk", "otp", "mfa"],
        "mfa_at": NOW_TS,
    }


def test_backup_code_for_the_yubikey_factor_claims_no_hwk(
    yubi_flow_user: tuple[Any, list[str]],
) -> None:
    _, backup = yubi_flow_user
    token = challenge({"email": "alice@example.com", "password": PASSWORD})
    assert answer(token, backup[0]).json()["method"] == "email"
    # The step between the factors remembers that a backup code answered.
    assert LoginChallenge.objects.get().done == ["yubi:backup_code"]
    assert trench_claims(tokens_of(answer(token, last_code()))) == {
        "amr": ["pwd", "otp", "mfa"],
        "mfa_at": NOW_TS,
    }


def test_challenge_from_before_flows_were_set(
    flows_config: Callable[..., Any],
    verified_user: Any,
    client_for: Callable[[Any], APIClient],
) -> None:
    activate(client_for(verified_user), "email")
    mail.outbox.clear()
    flows_config(flows=None)
    token = challenge({username_field(): verified_user.get_username(), "password": PASSWORD})
    flows_config(flows=default_flows())
    assert trench_claims(tokens_of(answer(token, last_code()))) == {
        "amr": ["pwd", "otp", "mfa"],
        "mfa_at": NOW_TS,
    }


@pytest.mark.urls("tests.jwt_claims.urls")
def test_passwordless_single_code_is_not_mfa_unless_configured(
    verified_user: Any, trench_auth: Callable[..., Any]
) -> None:
    token = challenge({"email": "alice@example.com"})
    access = tokens_of(answer(token, last_code()))["access"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/payout/").status_code == 403
    trench_auth(MFA_ACCEPTED_AMR=["otp", "hwk", "mfa"])
    assert client.get("/api/payout/").status_code == 200

"""Ephemeral token tampering at login step 2 (and the resend).

``tests/tokens/test_ephemeral_tokens.py`` has the single-use, expiry, password and attempt-cap
rules; here every tampering row gets one byte-identical ``401`` and leaves
the database as it was. Not applicable: "timestamp moved forward or
backward" — the token carries no time; its expiry lives in the challenge row
and any edit of the signed text fails the signature (``flip_*`` rows).

Pinned: a token that is not a JSON string (``null``, a number) is a 400 type
error like any field (test_types_and_structure.py); every string that is not a live token, whatever
its length or characters, is the uniform 401.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, credentials, last_code
from tests.input_validation.conftest import Scene
from tests.input_validation.endpoints import ENDPOINTS, Endpoint
from tests.input_validation.invariants import assert_rejected, raw_json
from tests.support.tokens import TAMPER_KINDS, tamper
from trench_mfa.models import LoginChallenge
from trench_mfa.state import tokens

pytestmark = pytest.mark.django_db

TOKEN_ENDPOINTS = tuple(e for e in ENDPOINTS if "ephemeral_token" in e.fields)
INVALID_TOKEN = b'{"error":"Invalid or expired token.","error_code":"invalid_token"}'


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def alg_none_jwt(user_id: Any) -> str:
    """An unsigned JWT (``alg: none``) claiming to be an access token of ``user_id``."""
    now = int(timezone.now().timestamp())
    header = _b64({"alg": "none", "typ": "JWT"})
    payload = _b64(
        {"token_type": "access", "user_id": str(user_id), "exp": now + 600, "jti": "x" * 32}
    )
    return f"{header}.{payload}."


def variants(scene: Scene) -> dict[str, str]:
    """Every tampered string, by name."""
    other, _ = tokens.issue_token(scene.user, "email")
    found = {kind: tamper(scene.token, kind, other) for kind in TAMPER_KINDS}
    found.update(
        {
            "alg_none_jwt": alg_none_jwt(scene.user.pk),
            "nul": scene.token + "\x00",
            "inner_nul": scene.token[:5] + "\x00" + scene.token[5:],
            "one_mb": "A" * 1_000_000,
            "other_users_format": f"{scene.user.pk}-{int(timezone.now().timestamp())}-abc",
            "token_twice": scene.token + scene.token,
            "reversed": scene.token[::-1],
        }
    )
    LoginChallenge.objects.filter(pk=int(other.partition(".")[0])).delete()
    return found


@pytest.mark.parametrize("endpoint", TOKEN_ENDPOINTS, ids=repr)
def test_every_tampered_token_gets_the_same_401(scene: Scene, endpoint: Endpoint) -> None:
    found = variants(scene)
    before = scene.snapshot()
    for name, value in found.items():
        response = scene.post(endpoint, scene.spoil(endpoint, "ephemeral_token", value))
        assert_rejected(scene, response, before, sent=value, statuses=(401,))
        assert response.content == INVALID_TOKEN, name
    # A lone surrogate can only be sent as raw JSON.
    raw = raw_json(scene.spoil(endpoint, "ephemeral_token", "S"), {"S": '"\\ud800"'})
    response = scene.post_raw(endpoint, raw, "application/json")
    assert_rejected(scene, response, before, statuses=(401,))
    assert response.content == INVALID_TOKEN


@pytest.mark.parametrize("endpoint", TOKEN_ENDPOINTS, ids=repr)
def test_null_and_non_string_tokens_are_type_errors(scene: Scene, endpoint: Endpoint) -> None:
    before = scene.snapshot()
    for value in (None, 0, 1, [scene.token], {"token": scene.token}, True):
        response = scene.post(endpoint, scene.spoil(endpoint, "ephemeral_token", value))
        assert_rejected(scene, response, before)
        assert list(response.json()) == ["ephemeral_token"]


def test_jwt_alg_none_is_no_credential_anywhere(scene: Scene) -> None:
    forged = alg_none_jwt(scene.user.pk)
    before = scene.snapshot()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    for response in (
        client.get("/auth/mfa/user-active-methods/"),
        client.post("/auth/code/request/"),
        client.post("/auth/email/deactivate/", {"code": scene.action_code}),
    ):
        assert_rejected(scene, response, before, statuses=(401,))


@pytest.mark.parametrize("flavour", FLAVOURS, ids=repr)
def test_a_token_of_user_a_with_a_valid_code_of_user_b(
    scene: Scene, flavour: Any, user_factory: Any, client_for: Any
) -> None:
    bob = user_factory(username="bob", email="bob@example.com")
    bob_client = client_for(bob)
    assert bob_client.post("/auth/email/activate/").status_code == 200
    assert (
        bob_client.post("/auth/email/activate/confirm/", {"code": last_code()}).status_code == 200
    )
    bob_token = scene.anon.post(flavour.login, credentials(bob)).json()["ephemeral_token"]
    bob_code = last_code()
    response = scene.anon.post(flavour.code, {"ephemeral_token": scene.token, "code": bob_code})
    assert response.status_code == 401
    assert response.json()["error_code"] == "invalid_code"
    # Bob's code and token are untouched: his own login still works.
    response = scene.anon.post(flavour.code, {"ephemeral_token": bob_token, "code": bob_code})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("flavour", FLAVOURS, ids=repr)
def test_a_token_replayed_after_a_successful_step_2(scene: Scene, flavour: Any) -> None:
    body = {"ephemeral_token": scene.token, "code": scene.login_code}
    assert scene.anon.post(flavour.code, body).status_code == 200
    before = scene.snapshot()
    for code in (scene.login_code, scene.backup_codes[0]):
        response = scene.anon.post(flavour.code, {"ephemeral_token": scene.token, "code": code})
        assert_rejected(scene, response, before, statuses=(401,))
        assert response.content == INVALID_TOKEN
    response = scene.anon.post(flavour.resend, {"ephemeral_token": scene.token})
    assert_rejected(scene, response, before, statuses=(401,))


@pytest.mark.parametrize("change", ["password", "is_active"])
def test_a_token_after_a_password_change_or_deactivation(scene: Scene, change: str) -> None:
    user = get_user_model().objects.get(pk=scene.user.pk)
    if change == "password":
        user.set_password("a-brand-new-password-2026")
    else:
        user.is_active = False
    user.save()
    before = scene.snapshot()
    for endpoint in TOKEN_ENDPOINTS:
        response = scene.post(endpoint, scene.valid_body(endpoint))
        assert_rejected(scene, response, before, statuses=(401,))
        assert response.content == INVALID_TOKEN


@pytest.mark.parametrize(("offset", "status"), [(-1, 200), (1, 401)])
def test_an_expired_token(scene: Scene, time_machine: Any, offset: int, status: int) -> None:
    challenge = LoginChallenge.objects.get()
    time_machine.move_to(challenge.expires_at + timedelta(seconds=offset), tick=False)
    endpoint = next(e for e in TOKEN_ENDPOINTS if e.name == "jwt-login-code")
    # A backup code does not expire: only the token's lifetime is measured.
    response = scene.post(endpoint, scene.spoil(endpoint, "code", scene.backup_codes[0]))
    assert response.status_code == status, response.content
    if status == 401:
        assert response.content == INVALID_TOKEN


def test_access_refresh_and_auth_tokens_as_the_ephemeral_token(scene: Scene) -> None:
    issued = scene.real_tokens()
    before = scene.snapshot()
    for endpoint in TOKEN_ENDPOINTS:
        for value in issued:
            response = scene.post(endpoint, scene.spoil(endpoint, "ephemeral_token", value))
            assert_rejected(scene, response, before, sent=value, statuses=(401,))
            assert response.content == INVALID_TOKEN

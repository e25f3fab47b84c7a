"""WebAuthn as the second factor of a login (both flavours)."""

from __future__ import annotations

from typing import Any

import jwt
from rest_framework.test import APIClient

from tests.conftest import Flavour, activate, assert_error
from tests.support.authenticator import SoftAuthenticator
from tests.webauthn.conftest import KeyUser, login_step_one
from trench_mfa.models import WebAuthnCredential


def test_step_one_adds_request_options_naming_the_users_keys(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = login_step_one(anon_client, flavour, key_user.user)
    assert body["method"] == "webauthn"
    assert set(body) == {
        "ephemeral_token",
        "method",
        "other_methods",
        "factors_remaining",
        "options",
    }
    options = body["options"]
    assert options["rpId"] == "example.com"
    assert [c["id"] for c in options["allowCredentials"]] == [key_user.key.credentials[0].id]
    assert options["userVerification"] == "preferred"


def test_the_signed_answer_gives_the_tokens(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = login_step_one(anon_client, flavour, key_user.user)
    answer = key_user.key.get(body["options"])
    response = anon_client.post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "credential": answer}
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == flavour.token_keys
    row = WebAuthnCredential.objects.get()
    assert row.sign_count == 1 and row.last_used_at is not None


def test_jwt_amr_names_a_hardware_key_and_the_verified_user(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    if flavour.name != "jwt":
        return
    body = login_step_one(anon_client, flavour, key_user.user)
    answer = key_user.key.get(body["options"])
    tokens = anon_client.post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "credential": answer}
    ).json()
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "hwk", "user", "mfa"]


def test_a_synced_passkey_without_user_verification_is_swk(
    user: Any, api_client: APIClient, anon_client: APIClient, flavour: Flavour
) -> None:
    from tests.webauthn.conftest import register

    key = SoftAuthenticator(synced=True)
    assert register(api_client, key).status_code == 200
    body = login_step_one(anon_client, flavour, user)
    answer = key.get(body["options"], verified=False)
    tokens = anon_client.post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "credential": answer}
    ).json()
    if flavour.name == "jwt":
        claims = jwt.decode(tokens["access"], options={"verify_signature": False})
        assert claims["amr"] == ["pwd", "swk", "mfa"]
    assert WebAuthnCredential.objects.get().backed_up


def test_a_backup_code_still_answers(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = login_step_one(anon_client, flavour, key_user.user)
    response = anon_client.post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "code": key_user.backup_codes[0]}
    )
    assert response.status_code == 200, response.content


def test_requesting_the_code_again_gives_fresh_options_and_voids_the_old(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = login_step_one(anon_client, flavour, key_user.user)
    token = body["ephemeral_token"]
    again = anon_client.post(flavour.resend, {"ephemeral_token": token, "method": "webauthn"})
    assert again.status_code == 200, again.content
    fresh = again.json()["options"]
    assert fresh["challenge"] != body["options"]["challenge"]
    stale = key_user.key.get(body["options"])
    assert_error(
        anon_client.post(flavour.code, {"ephemeral_token": token, "credential": stale}),
        401,
        "invalid_code",
    )
    answer = key_user.key.get(fresh)
    response = anon_client.post(flavour.code, {"ephemeral_token": token, "credential": answer})
    assert response.status_code == 200, response.content


def test_another_method_can_switch_to_webauthn_for_the_login(
    user: Any,
    api_client: APIClient,
    anon_client: APIClient,
    key: SoftAuthenticator,
    flavour: Flavour,
) -> None:
    from tests.conftest import last_code
    from tests.webauthn.conftest import register

    activate(api_client, "email")
    assert api_client.post("/auth/code/request/").status_code == 200
    assert register(api_client, key, code=last_code()).status_code == 200
    body = login_step_one(anon_client, flavour, user)
    assert body["method"] == "email" and "options" not in body
    assert body["other_methods"] == ["webauthn"]
    token = body["ephemeral_token"]
    options = anon_client.post(
        flavour.resend, {"ephemeral_token": token, "method": "webauthn"}
    ).json()["options"]
    response = anon_client.post(
        flavour.code,
        {"ephemeral_token": token, "credential": key.get(options), "method": "webauthn"},
    )
    assert response.status_code == 200, response.content

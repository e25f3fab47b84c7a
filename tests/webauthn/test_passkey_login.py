"""Passwordless login with a passkey: passkey/begin/ then passkey/ (both flavours)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jwt
import pytest
from rest_framework.test import APIClient

from tests.conftest import Flavour, assert_error, assert_field_error
from tests.support.authenticator import SoftAuthenticator
from tests.webauthn.conftest import KeyUser, add_key, login_step_one
from trench_mfa.models import LoginChallenge, MFAMethod


def begin(client: APIClient, flavour: Flavour) -> dict[str, Any]:
    """``POST passkey/begin/``; its body (asserts 200)."""
    response = client.post(f"{flavour.base}passkey/begin/")
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def finish(client: APIClient, flavour: Flavour, token: str, answer: Any) -> Any:
    """``POST passkey/``; the response."""
    return client.post(f"{flavour.base}passkey/", {"ephemeral_token": token, "credential": answer})


def begun(client: APIClient, flavour: Flavour, key_user: KeyUser) -> tuple[str, Any]:
    """``POST passkey/begin/`` and the user's key's answer; (ephemeral token, answer)."""
    body = begin(client, flavour)
    return body["ephemeral_token"], key_user.key.get(body["options"])


def test_begin_names_no_credential_and_requires_user_verification(
    anon_client: APIClient, flavour: Flavour
) -> None:
    body = begin(anon_client, flavour)
    assert set(body) == {"ephemeral_token", "options"}
    assert body["options"]["allowCredentials"] == []
    assert body["options"]["userVerification"] == "required"


def test_a_passkey_alone_logs_in(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = begin(anon_client, flavour)
    response = finish(
        anon_client, flavour, body["ephemeral_token"], key_user.key.get(body["options"])
    )
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert set(tokens) == flavour.token_keys
    if flavour.name == "jwt":
        claims = jwt.decode(tokens["access"], options={"verify_signature": False})
        assert claims["amr"] == ["hwk", "user", "mfa"]
        assert claims["user_id"] == str(key_user.user.pk)
    assert LoginChallenge.objects.get().used_at is not None


def test_without_user_verification_nobody_logs_in(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = begin(anon_client, flavour)
    answer = key_user.key.get(body["options"], verified=False)
    assert_error(finish(anon_client, flavour, body["ephemeral_token"], answer), 401, "invalid_code")
    assert MFAMethod.objects.get(name="webauthn").failure_count == 1


def test_the_user_handle_must_be_the_credentials_owners(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = begin(anon_client, flavour)
    for handle in (b"\x01" * 32, b""):
        answer = key_user.key.get(body["options"], user_handle=handle)
        if not handle:
            del answer["response"]["userHandle"]
        assert_error(
            finish(anon_client, flavour, body["ephemeral_token"], answer), 401, "invalid_code"
        )


def test_an_unknown_credential_tells_nothing_and_costs_the_token_an_attempt(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(MAX_CODE_ATTEMPTS=2)
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "example.com"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    body = begin(anon_client, flavour)
    token = body["ephemeral_token"]
    for _ in range(2):
        answer = stranger.get(body["options"])
        assert_error(finish(anon_client, flavour, token, answer), 401, "invalid_code")
    answer = key_user.key.get(body["options"])
    assert_error(finish(anon_client, flavour, token, answer), 401, "invalid_token")


def test_a_passkey_answer_and_token_are_single_use(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    token, answer = begun(anon_client, flavour, key_user)
    assert finish(anon_client, flavour, token, answer).status_code == 200
    assert_error(finish(anon_client, flavour, token, answer), 401, "invalid_token")
    other, _ = begun(anon_client, flavour, key_user)
    assert_error(finish(anon_client, flavour, other, answer), 401, "invalid_code")


def test_tokens_of_the_two_logins_do_not_cross(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    token, answer = begun(anon_client, flavour, key_user)
    for path in (flavour.code, flavour.resend):
        response = anon_client.post(path, {"ephemeral_token": token, "credential": answer})
        assert_error(response, 401, "invalid_token")
    second = login_step_one(anon_client, flavour, key_user.user)
    answer = key_user.key.get(second["options"])
    assert_error(
        finish(anon_client, flavour, second["ephemeral_token"], answer), 401, "invalid_token"
    )


def test_a_deactivated_method_no_longer_logs_in(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    token, answer = begun(anon_client, flavour, key_user)
    MFAMethod.objects.filter(name="webauthn").update(is_active=False, is_primary=False)
    assert_error(finish(anon_client, flavour, token, answer), 401, "invalid_code")


def test_an_inactive_user_does_not_log_in(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = begin(anon_client, flavour)
    key_user.user.is_active = False
    key_user.user.save()
    answer = key_user.key.get(body["options"])
    assert_error(finish(anon_client, flavour, body["ephemeral_token"], answer), 401, "invalid_code")


def test_passkey_login_is_off_by_default(
    anon_client: APIClient, flavour: Flavour, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(PASSKEY_LOGIN=False)
    response = anon_client.post(f"{flavour.base}passkey/begin/")
    assert_error(response, 404, "passkey_login_disabled", "Passkey login is not enabled.")
    response = anon_client.post(f"{flavour.base}passkey/", {})
    assert response.status_code in (400, 404)


@pytest.mark.parametrize(
    "body", [{}, {"ephemeral_token": "x"}, {"ephemeral_token": "x", "credential": []}]
)
def test_a_malformed_finish_is_a_400(anon_client: APIClient, flavour: Flavour, body: Any) -> None:
    response = anon_client.post(f"{flavour.base}passkey/", body)
    assert response.status_code == 400, response.content
    if "ephemeral_token" in body:
        assert_field_error(response, "credential")


def test_a_registered_second_key_logs_in_too(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    second = SoftAuthenticator(synced=True)
    confirmed = add_key(key_user.client, key_user.key, second)
    assert confirmed.status_code == 200, confirmed.content
    body = begin(anon_client, flavour)
    response = finish(anon_client, flavour, body["ephemeral_token"], second.get(body["options"]))
    assert response.status_code == 200, response.content

"""Registering passkeys and security keys: the activation of the WebAuthn method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import time_machine
from rest_framework.test import APIClient

from tests.conftest import assert_error, assert_field_error
from tests.support.authenticator import RP_ID, SoftAuthenticator, unb64url
from tests.webauthn.conftest import KeyUser, register
from trench_mfa.models import EventType, MFAEvent, MFAMethod, WebAuthnCredential


def test_activation_hands_out_creation_options_with_a_random_user_handle(
    user: Any,
    api_client: APIClient,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
) -> None:
    response = api_client.post("/auth/webauthn/activate/", {})
    assert response.status_code == 200, response.content
    body = response.json()
    options = body["options"]
    assert body["details"]
    assert options["rp"] == {"id": RP_ID, "name": "Example"}
    assert options["user"]["name"] == user.get_username()
    handle = unb64url(options["user"]["id"])
    # 32 random bytes: not the primary key, and another user's differs.
    assert len(handle) == 32 and handle != str(user.pk).encode()
    other = client_for(user_factory(username="other"))
    theirs = other.post("/auth/webauthn/activate/", {}).json()["options"]["user"]["id"]
    assert unb64url(theirs) != handle
    assert len(unb64url(options["challenge"])) == 32
    assert options["attestation"] == "none"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["excludeCredentials"] == []


def test_confirming_with_a_registration_activates_and_returns_backup_codes(
    user: Any, api_client: APIClient, key: SoftAuthenticator
) -> None:
    response = register(api_client, key, name="YubiKey 5")
    assert response.status_code == 200, response.content
    assert len(response.json()["backup_codes"]) == 10
    method = MFAMethod.objects.get(user=user, name="webauthn")
    assert method.is_active and method.is_primary
    (row,) = WebAuthnCredential.objects.filter(method=method)
    assert (row.name, row.credential_id, row.transports) == (
        "YubiKey 5",
        key.credentials[0].id,
        ["internal"],
    )
    assert MFAEvent.objects.filter(user=user, event=EventType.CREDENTIAL_ADDED).count() == 1


def test_a_second_key_needs_a_current_answer_and_gets_no_new_backup_codes(
    key_user: KeyUser,
) -> None:
    client, first = key_user.client, key_user.key
    assert_error(client.post("/auth/webauthn/activate/", {}), 400, "otp_code_missing")
    options = client.post("/auth/code/request/", {"method": "webauthn"}).json()["options"]
    step_up = first.get(options)
    started = client.post("/auth/webauthn/activate/", {"credential": step_up})
    assert started.status_code == 200, started.content
    creation = started.json()["options"]
    assert [c["id"] for c in creation["excludeCredentials"]] == [first.credentials[0].id]
    second = SoftAuthenticator()
    confirmed = client.post(
        "/auth/webauthn/activate/confirm/",
        {"credential": second.create(creation), "name": "backup key"},
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json() == {"backup_codes": []}
    names = list(WebAuthnCredential.objects.order_by("pk").values_list("name", flat=True))
    assert names == ["my key", "backup key"]
    # Both keys share the user handle: one account on every authenticator.
    assert first.credentials[0].user_handle == second.credentials[0].user_handle


def test_a_credential_id_belongs_to_one_account_only(
    key_user: KeyUser, user_factory: Any, client_for: Any
) -> None:
    mallory = user_factory(username="mallory")
    other = client_for(mallory)
    started = other.post("/auth/webauthn/activate/", {})
    copy = key_user.key.create(
        started.json()["options"], credential_id=key_user.key.credentials[0].credential_id
    )
    response = other.post("/auth/webauthn/activate/confirm/", {"credential": copy})
    assert_error(response, 400, "code_invalid_or_expired")
    assert WebAuthnCredential.objects.count() == 1
    assert not MFAMethod.objects.get(user=mallory).is_active


def test_a_registration_is_refused_from_another_origin_or_rp_id(
    user: Any, api_client: APIClient, key: SoftAuthenticator
) -> None:
    for bent in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        options = api_client.post("/auth/webauthn/activate/", {}).json()["options"]
        answer = key.create(options, **bent)
        response = api_client.post("/auth/webauthn/activate/confirm/", {"credential": answer})
        assert_error(response, 400, "code_invalid_or_expired")
    assert not WebAuthnCredential.objects.exists()


def test_a_registration_answers_its_challenge_once_and_only_while_it_lives(
    user: Any, api_client: APIClient, key: SoftAuthenticator
) -> None:
    with time_machine.travel("2026-03-01 12:00:00Z", tick=False) as clock:
        options = api_client.post("/auth/webauthn/activate/", {}).json()["options"]
        answer = key.create(options)
        clock.shift(301)  # VALIDITY_PERIOD: 300 seconds
        response = api_client.post("/auth/webauthn/activate/confirm/", {"credential": answer})
        assert_error(response, 400, "code_invalid_or_expired")
        options = api_client.post("/auth/webauthn/activate/", {}).json()["options"]
        answer = key.create(options)
        ok = api_client.post("/auth/webauthn/activate/confirm/", {"credential": answer})
        assert ok.status_code == 200, ok.content
    assert WebAuthnCredential.objects.count() == 1


def test_a_new_activation_voids_the_previous_challenge(
    user: Any, api_client: APIClient, key: SoftAuthenticator
) -> None:
    old = api_client.post("/auth/webauthn/activate/", {}).json()["options"]
    api_client.post("/auth/webauthn/activate/", {})
    response = api_client.post("/auth/webauthn/activate/confirm/", {"credential": key.create(old)})
    assert_error(response, 400, "code_invalid_or_expired")


def test_malformed_credentials_are_a_400_field_error(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/webauthn/activate/", {})
    for bad in (
        "not an object",
        [],
        {},
        {"id": "abc", "rawId": "abc", "type": "public-key"},
        {"id": "a b", "rawId": "abc", "type": "public-key", "response": {"clientDataJSON": "x"}},
        {"id": "abc", "rawId": "abc", "type": "other", "response": {"clientDataJSON": "eA"}},
    ):
        response = api_client.post("/auth/webauthn/activate/confirm/", {"credential": bad})
        assert_field_error(response, "credential")
    response = api_client.post(
        "/auth/webauthn/activate/confirm/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert not MFAMethod.objects.get(user=user, name="webauthn").is_active


def test_well_shaped_garbage_is_refused_without_a_500(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/webauthn/activate/", {})
    garbage = {
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "e30", "attestationObject": "oA"},
    }
    response = api_client.post("/auth/webauthn/activate/confirm/", {"credential": garbage})
    assert_error(response, 400, "code_invalid_or_expired")

"""What a WebAuthn login refuses, and that each refusal counts like a wrong code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, Flavour, assert_error, assert_field_error
from tests.support.authenticator import SoftAuthenticator
from tests.webauthn.conftest import KeyUser, login_step_one, register
from trench_mfa.models import EventType, LoginChallenge, MFAEvent, MFAMethod, WebAuthnCredential

JWT = FLAVOURS[0]


def _answer(client: APIClient, flavour: Flavour, token: str, answer: Any) -> Any:
    return client.post(flavour.code, {"ephemeral_token": token, "credential": answer})


def _failures(user: Any) -> int:
    return MFAMethod.objects.get(user=user, name="webauthn").failure_count


@pytest.mark.parametrize(
    "bent",
    [
        pytest.param({"origin": "https://evil.example"}, id="wrong-origin"),
        pytest.param({"origin": "http://example.com"}, id="plain-http-origin"),
        pytest.param({"rp_id": "evil.example"}, id="wrong-rp-id"),
    ],
)
def test_an_answer_for_another_site_is_refused_and_counted(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour, bent: dict[str, str]
) -> None:
    body = login_step_one(anon_client, flavour, key_user.user)
    answer = key_user.key.get(body["options"], **bent)
    assert_error(
        _answer(anon_client, flavour, body["ephemeral_token"], answer), 401, "invalid_code"
    )
    assert _failures(key_user.user) == 1
    assert LoginChallenge.objects.get().failed_attempts == 1


def test_a_replayed_assertion_is_refused(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = login_step_one(anon_client, flavour, key_user.user)
    answer = key_user.key.get(body["options"])
    assert _answer(anon_client, flavour, body["ephemeral_token"], answer).status_code == 200
    # The same signed answer on a new login of the same user: its challenge is gone.
    again = login_step_one(anon_client, flavour, key_user.user)
    assert_error(
        _answer(anon_client, flavour, again["ephemeral_token"], answer), 401, "invalid_code"
    )


def test_an_answer_is_bound_to_its_own_login(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    first = login_step_one(anon_client, flavour, key_user.user)
    second = login_step_one(anon_client, flavour, key_user.user)
    answer = key_user.key.get(first["options"])
    assert_error(
        _answer(anon_client, flavour, second["ephemeral_token"], answer), 401, "invalid_code"
    )
    assert (
        _answer(
            anon_client, flavour, first["ephemeral_token"], key_user.key.get(first["options"])
        ).status_code
        == 200
    )


def test_another_users_credential_is_refused(
    key_user: KeyUser,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    anon_client: APIClient,
    flavour: Flavour,
) -> None:
    victim = user_factory(username="victim")
    register(client_for(victim), SoftAuthenticator())
    body = login_step_one(anon_client, flavour, victim)
    # The attacker signs the victim's challenge with their own (registered)
    # key, without a user handle, as a security key's non-discoverable
    # credential answers: only the credential's owner can refuse it.
    answer = key_user.key.get(body["options"], credential=key_user.key.credentials[0])
    del answer["response"]["userHandle"]
    assert_error(
        _answer(anon_client, flavour, body["ephemeral_token"], answer), 401, "invalid_code"
    )
    assert _failures(victim) == 1


def test_an_unregistered_key_is_refused(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    stranger = SoftAuthenticator()
    stranger.create({"rp": {"id": "example.com"}, "user": {"id": "AAAA"}, "challenge": "AAAA"})
    body = login_step_one(anon_client, flavour, key_user.user)
    answer = stranger.get(body["options"], credential=stranger.credentials[0])
    assert_error(
        _answer(anon_client, flavour, body["ephemeral_token"], answer), 401, "invalid_code"
    )


def test_a_signature_counter_that_goes_back_is_refused_and_audited(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    for _ in range(2):
        body = login_step_one(anon_client, flavour, key_user.user)
        assert (
            _answer(
                anon_client, flavour, body["ephemeral_token"], key_user.key.get(body["options"])
            ).status_code
            == 200
        )
    assert WebAuthnCredential.objects.get().sign_count == 2
    body = login_step_one(anon_client, flavour, key_user.user)
    clone = key_user.key.get(body["options"], sign_count=1)  # a copy of the key, behind
    assert_error(_answer(anon_client, flavour, body["ephemeral_token"], clone), 401, "invalid_code")
    event = MFAEvent.objects.get(event=EventType.SIGN_COUNT_REGRESSION)
    assert (event.user_id, event.method, event.purpose, event.outcome) == (
        key_user.user.pk,
        "webauthn",
        "login",
        "refused",
    )
    assert WebAuthnCredential.objects.get().sign_count == 2
    assert _failures(key_user.user) == 1


def test_the_same_counter_twice_is_refused(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    body = login_step_one(anon_client, flavour, key_user.user)
    assert (
        _answer(
            anon_client,
            flavour,
            body["ephemeral_token"],
            key_user.key.get(body["options"], sign_count=5),
        ).status_code
        == 200
    )
    body = login_step_one(anon_client, flavour, key_user.user)
    same = key_user.key.get(body["options"], sign_count=5)
    assert_error(_answer(anon_client, flavour, body["ephemeral_token"], same), 401, "invalid_code")
    assert MFAEvent.objects.filter(event=EventType.SIGN_COUNT_REGRESSION).count() == 1


def test_an_authenticator_without_a_counter_keeps_working(
    user: Any, api_client: APIClient, anon_client: APIClient, flavour: Flavour
) -> None:
    key = SoftAuthenticator(counter_step=0)
    assert register(api_client, key).status_code == 200
    for _ in range(2):
        body = login_step_one(anon_client, flavour, user)
        response = _answer(anon_client, flavour, body["ephemeral_token"], key.get(body["options"]))
        assert response.status_code == 200, response.content
    assert not MFAEvent.objects.filter(event=EventType.SIGN_COUNT_REGRESSION).exists()


def test_an_expired_challenge_is_refused(
    key_user: KeyUser, anon_client: APIClient, flavour: Flavour
) -> None:
    with time_machine.travel("2026-03-01 12:00:00Z", tick=False) as clock:
        body = login_step_one(anon_client, flavour, key_user.user)
        answer = key_user.key.get(body["options"])
        clock.shift(301)  # past VALIDITY_PERIOD, inside the token's 600 seconds
        response = _answer(anon_client, flavour, body["ephemeral_token"], answer)
    assert_error(response, 401, "invalid_code")


def test_user_verification_is_enforced_when_required(
    key_user: KeyUser, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    from tests.support.authenticator import WEBAUTHN_METHOD

    trench_auth(methods={"webauthn": {**WEBAUTHN_METHOD, "USER_VERIFICATION": "required"}})
    body = login_step_one(anon_client, JWT, key_user.user)
    assert body["options"]["userVerification"] == "required"
    answer = key_user.key.get(body["options"], verified=False)
    assert_error(_answer(anon_client, JWT, body["ephemeral_token"], answer), 401, "invalid_code")


@pytest.mark.parametrize(
    "credential",
    [
        pytest.param("a string", id="string"),
        pytest.param(123, id="number"),
        pytest.param({"id": "x"}, id="incomplete"),
        pytest.param(
            {"id": "@@", "rawId": "@@", "type": "public-key", "response": {}}, id="not-b64"
        ),
    ],
)
def test_a_malformed_credential_is_a_400_and_counts_nothing(
    key_user: KeyUser, anon_client: APIClient, credential: Any
) -> None:
    body = login_step_one(anon_client, JWT, key_user.user)
    response = _answer(anon_client, JWT, body["ephemeral_token"], credential)
    assert_field_error(response, "credential")
    assert _failures(key_user.user) == 0
    assert LoginChallenge.objects.get().failed_attempts == 0


def test_hostile_but_well_shaped_answers_never_give_a_500(
    key_user: KeyUser, anon_client: APIClient
) -> None:
    body = login_step_one(anon_client, JWT, key_user.user)
    real = key_user.key.get(body["options"])
    cases = [
        {**real, "response": {**real["response"], "clientDataJSON": "bm90IGpzb24"}},
        {**real, "response": {**real["response"], "authenticatorData": "AA"}},
        {**real, "response": {**real["response"], "signature": "AAAA"}},
        {**real, "response": {**real["response"], "userHandle": "AAAA"}},
        {**real, "rawId": "AAAA"},
        {**real, "id": "A" * 2000, "rawId": "A" * 2000},
    ]
    for case in cases:
        body = login_step_one(anon_client, JWT, key_user.user)
        response = _answer(anon_client, JWT, body["ephemeral_token"], case)
        assert response.status_code == 401, (case, response.content)


def test_wrong_answers_lead_to_the_usual_back_off_and_lockout(
    key_user: KeyUser, anon_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=3, THROTTLE_FACTOR=0)
    for _ in range(3):
        body = login_step_one(anon_client, JWT, key_user.user)
        wrong = key_user.key.get(body["options"], origin="https://evil.example")
        assert_error(_answer(anon_client, JWT, body["ephemeral_token"], wrong), 401, "invalid_code")
    body = login_step_one(anon_client, JWT, key_user.user)
    right = key_user.key.get(body["options"])
    response = _answer(anon_client, JWT, body["ephemeral_token"], right)
    assert_error(response, 429, "locked")

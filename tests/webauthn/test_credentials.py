"""A user's keys: list, rename, remove (a code confirms it; the last one deactivates)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from tests.conftest import assert_error, assert_field_error
from tests.support.authenticator import SoftAuthenticator
from tests.webauthn.conftest import KeyUser, add_key, register
from trench_mfa.models import BackupCode, EventType, MFAEvent, MFAMethod, WebAuthnCredential


def _answer(client: APIClient, key: SoftAuthenticator) -> dict[str, Any]:
    options = client.post("/auth/code/request/", {"method": "webauthn"}).json()["options"]
    return key.get(options)


def test_the_list_shows_each_key_without_key_material(key_user: KeyUser) -> None:
    add_key(key_user.client, key_user.key, SoftAuthenticator(synced=True))
    response = key_user.client.get("/auth/webauthn/credentials/")
    assert response.status_code == 200
    first, second = response.json()
    assert set(first) == {"id", "name", "created", "last_used", "transports", "backed_up"}
    assert (first["name"], first["transports"], first["backed_up"]) == (
        "my key",
        ["internal"],
        False,
    )
    assert first["last_used"] is not None  # it answered the step-up
    assert second["backed_up"] is True and second["last_used"] is None
    assert key_user.key.credentials[0].id not in response.content.decode()


def test_the_list_is_the_users_own(
    key_user: KeyUser, user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    other = client_for(user_factory(username="other"))
    assert other.get("/auth/webauthn/credentials/").json() == []
    assert APIClient().get("/auth/webauthn/credentials/").status_code == 401


def test_renaming(key_user: KeyUser) -> None:
    pk = WebAuthnCredential.objects.get().pk
    response = key_user.client.patch(f"/auth/webauthn/credentials/{pk}/", {"name": "laptop"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "laptop"
    assert WebAuthnCredential.objects.get().name == "laptop"
    assert_field_error(
        key_user.client.patch(f"/auth/webauthn/credentials/{pk}/", {"name": ""}), "name"
    )
    assert_field_error(
        key_user.client.patch(f"/auth/webauthn/credentials/{pk}/", {"name": "x" * 101}), "name"
    )


def test_another_users_key_cannot_be_touched(
    key_user: KeyUser, user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    other = client_for(user_factory(username="other"))
    other_key = SoftAuthenticator()
    register(other, other_key)
    pk = WebAuthnCredential.objects.get(method__user=key_user.user).pk
    response = other.patch(f"/auth/webauthn/credentials/{pk}/", {"name": "mine now"})
    assert_error(response, 404, "credential_does_not_exist")
    response = other.delete(
        f"/auth/webauthn/credentials/{pk}/", {"credential": _answer(other, other_key)}
    )
    assert_error(response, 404, "credential_does_not_exist")
    assert WebAuthnCredential.objects.count() == 2


def test_removing_a_key_needs_a_current_answer(key_user: KeyUser) -> None:
    second = SoftAuthenticator()
    add_key(key_user.client, key_user.key, second)
    pk = WebAuthnCredential.objects.order_by("pk").first().pk  # type: ignore[union-attr]
    assert_field_error(key_user.client.delete(f"/auth/webauthn/credentials/{pk}/", {}), "code")
    wrong = _answer(key_user.client, second)
    wrong["response"]["signature"] = "AAAA"
    response = key_user.client.delete(f"/auth/webauthn/credentials/{pk}/", {"credential": wrong})
    assert_error(response, 400, "code_invalid_or_expired")
    response = key_user.client.delete(
        f"/auth/webauthn/credentials/{pk}/", {"credential": _answer(key_user.client, second)}
    )
    assert response.status_code == 204, response.content
    assert list(WebAuthnCredential.objects.values_list("credential_id", flat=True)) == [
        second.credentials[0].id
    ]
    assert MFAMethod.objects.get(name="webauthn").is_active
    assert MFAEvent.objects.filter(event=EventType.CREDENTIAL_REMOVED).count() == 1


def test_removing_the_last_key_deactivates_the_method(key_user: KeyUser) -> None:
    pk = WebAuthnCredential.objects.get().pk
    response = key_user.client.delete(
        f"/auth/webauthn/credentials/{pk}/", {"code": key_user.backup_codes[0]}
    )
    assert response.status_code == 204, response.content
    method = MFAMethod.objects.get(name="webauthn")
    assert not method.is_active and not method.is_primary
    assert not BackupCode.objects.exists()
    assert MFAEvent.objects.filter(event=EventType.METHOD_DEACTIVATED).count() == 1


def test_the_primary_keys_last_key_stays_while_other_methods_are_on(
    key_user: KeyUser,
) -> None:
    from tests.conftest import last_code

    response = key_user.client.post(
        "/auth/email/activate/", {"credential": _answer(key_user.client, key_user.key)}
    )
    assert response.status_code == 200, response.content
    assert (
        key_user.client.post("/auth/email/activate/confirm/", {"code": last_code()}).status_code
        == 200
    )
    pk = WebAuthnCredential.objects.get().pk
    response = key_user.client.delete(
        f"/auth/webauthn/credentials/{pk}/", {"credential": _answer(key_user.client, key_user.key)}
    )
    assert_error(response, 400, "deactivation_of_primary")
    assert WebAuthnCredential.objects.exists()


def test_deactivating_the_method_forgets_every_key(key_user: KeyUser) -> None:
    response = key_user.client.post(
        "/auth/webauthn/deactivate/", {"credential": _answer(key_user.client, key_user.key)}
    )
    assert response.status_code == 204, response.content
    assert not WebAuthnCredential.objects.exists()
    # Activating again starts with no key: the old one is not allowed back in.
    options = key_user.client.post("/auth/webauthn/activate/", {}).json()["options"]
    assert options["excludeCredentials"] == []


def test_credentials_of_a_method_that_keeps_none_are_not_found(key_user: KeyUser) -> None:
    assert_error(key_user.client.get("/auth/email/credentials/"), 400, "mfa_method_does_not_exist")
    assert_error(key_user.client.get("/auth/nope/credentials/"), 400, "mfa_method_does_not_exist")

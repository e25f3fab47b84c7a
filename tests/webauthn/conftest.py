"""Fixtures of the WebAuthn tests: the method configured, a software authenticator, helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import Flavour, credentials
from tests.support.authenticator import WEBAUTHN_METHOD, SoftAuthenticator


@pytest.fixture(autouse=True)
def webauthn_method(db: None, trench_auth: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The WebAuthn method next to the project's methods, and passkey login on."""
    return trench_auth(methods={"webauthn": WEBAUTHN_METHOD}, PASSKEY_LOGIN=True)


@pytest.fixture
def key() -> SoftAuthenticator:
    """A software platform authenticator with user verification."""
    return SoftAuthenticator()


def register(
    client: APIClient, key: SoftAuthenticator, name: str = "my key", code: str | None = None
) -> Any:
    """Activate WebAuthn (or add a credential) with ``key``; the confirm response."""
    started = client.post("/auth/webauthn/activate/", {"code": code} if code else {})
    assert started.status_code == 200, started.content
    answer = key.create(started.json()["options"])
    return client.post("/auth/webauthn/activate/confirm/", {"credential": answer, "name": name})


def add_key(client: APIClient, current: SoftAuthenticator, new: SoftAuthenticator) -> Any:
    """Register ``new`` next to ``current`` (which answers the step-up); the confirm response."""
    options = client.post("/auth/code/request/", {"method": "webauthn"}).json()["options"]
    started = client.post("/auth/webauthn/activate/", {"credential": current.get(options)})
    assert started.status_code == 200, started.content
    return client.post(
        "/auth/webauthn/activate/confirm/", {"credential": new.create(started.json()["options"])}
    )


@dataclass
class KeyUser:
    """A user whose only MFA method is WebAuthn with one credential."""

    user: Any
    client: APIClient
    key: SoftAuthenticator
    backup_codes: list[str]


@pytest.fixture
def key_user(user: Any, api_client: APIClient, key: SoftAuthenticator) -> KeyUser:
    """``user`` with WebAuthn activated by ``key``."""
    response = register(api_client, key)
    assert response.status_code == 200, response.content
    return KeyUser(user, api_client, key, response.json()["backup_codes"])


def login_step_one(client: APIClient, flavour: Flavour, user: Any) -> dict[str, Any]:
    """Login step 1 with the right password (asserts 200); its body."""
    response = client.post(flavour.login, credentials(user))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]

"""End-to-end login with Django's own test client (plain JSON over HTTP), both flavours."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.conftest import Flavour, credentials, last_code

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    """POST a JSON body."""
    return client.post(
        path, data=json.dumps(body or {}), content_type="application/json", **headers
    )


def test_email_login_end_to_end(user: Any, flavour: Flavour) -> None:
    client = Client(enforce_csrf_checks=True)
    # No MFA yet: step 1 gives the tokens directly.
    tokens = post(client, flavour.login, credentials(user)).json()
    assert set(tokens) == flavour.token_keys
    auth = {"HTTP_AUTHORIZATION": flavour.authorization(tokens)}

    assert post(client, "/auth/email/activate/", **auth).status_code == 200
    response = post(client, "/auth/email/activate/confirm/", {"code": last_code()}, **auth)
    assert response.status_code == 200
    backup_codes = response.json()["backup_codes"]
    assert len(backup_codes) == 10

    fresh = Client(enforce_csrf_checks=True)
    step1 = post(fresh, flavour.login, credentials(user))
    assert step1.status_code == 200
    assert step1["Cache-Control"] and "no-store" in step1["Cache-Control"]
    challenge = step1.json()
    assert challenge["method"] == "email"
    step2 = post(
        fresh, flavour.code, {"ephemeral_token": challenge["ephemeral_token"], "code": last_code()}
    )
    assert step2.status_code == 200
    final = step2.json()
    assert set(final) == flavour.token_keys

    listing = fresh.get(
        "/auth/mfa/user-active-methods/", HTTP_AUTHORIZATION=flavour.authorization(final)
    )
    assert listing.json() == [{"name": "email", "is_primary": True}]

    # A second login with a backup code, then the same code again fails.
    for expected in (200, 401):
        step1 = post(fresh, flavour.login, credentials(user))
        body = {"ephemeral_token": step1.json()["ephemeral_token"], "code": backup_codes[0]}
        assert post(fresh, flavour.code, body).status_code == expected


def test_form_encoded_login_works_too(user: Any, flavour: Flavour) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(flavour.login, credentials(user))
    assert response.status_code == 200 and set(response.json()) == flavour.token_keys


def test_malformed_json_is_a_400(user: Any, flavour: Flavour) -> None:
    client = Client()
    response = client.post(flavour.login, data="{not json", content_type="application/json")
    assert response.status_code == 400

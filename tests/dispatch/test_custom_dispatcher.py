"""A custom method named in settings, with a django-trench style dispatcher, works end to end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import Flavour, assert_error, start_activation, start_login
from tests.support import dispatchers
from trench_mfa.models import MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db

HANDLERS = {
    "result": ("tests.support.dispatchers.RecordingDispatcher", "Code recorded."),
    "response": (
        "tests.support.dispatchers.ResponseDispatcher",
        "SMS message with MFA code has been sent.",
    ),
}


@pytest.fixture(autouse=True)
def _clear_sent() -> Iterator[None]:
    dispatchers.SENT.clear()
    yield
    dispatchers.SENT.clear()


def sent_code() -> str:
    """The last code a test dispatcher recorded."""
    return dispatchers.SENT[-1][2]


@pytest.mark.parametrize("kind", HANDLERS)
def test_custom_method_end_to_end(
    user: Any,
    api_client: APIClient,
    anon_client: APIClient,
    trench_auth: Callable[..., Any],
    flavour: Flavour,
    kind: str,
) -> None:
    handler, details = HANDLERS[kind]
    trench_auth(methods={"sms_custom": {"HANDLER": handler, "SOURCE_FIELD": "phone_number"}})
    assert "sms_custom" in anon_client.get("/auth/mfa/config/").json()["methods"]

    response = api_client.post("/auth/sms_custom/activate/")
    assert response.status_code == 200 and response.json() == {"details": details}
    assert dispatchers.SENT[-1][:2] == ("sms_custom", "+48600100200")
    response = api_client.post("/auth/sms_custom/activate/confirm/", {"code": sent_code()})
    assert response.status_code == 200 and len(response.json()["backup_codes"]) == 10

    body = start_login(anon_client, flavour, user)
    assert body["method"] == "sms_custom"
    code = sent_code()
    # The base class made it a hashed, single-use login code.
    row = OneTimeCode.objects.get(consumed_at__isnull=True)
    assert (row.purpose, code in row.code_hash) == ("login", False)
    response = anon_client.post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "code": code}
    )
    assert response.status_code == 200 and set(response.json()) == flavour.token_keys

    response = api_client.post("/auth/code/request/")
    assert response.status_code == 200
    response = api_client.post("/auth/sms_custom/deactivate/", {"code": sent_code()})
    assert response.status_code == 204


@pytest.mark.usefixtures("email_mfa_user")
def test_custom_method_alongside_email(
    api_client: APIClient,
    anon_client: APIClient,
    trench_auth: Callable[..., Any],
    flavour: Flavour,
    user: Any,
) -> None:
    trench_auth(
        methods={"sms_custom": {"HANDLER": HANDLERS["result"][0], "SOURCE_FIELD": "phone_number"}}
    )
    # Email is on: its code confirms adding the method.
    assert start_activation(api_client, "sms_custom").status_code == 200
    response = api_client.post("/auth/sms_custom/activate/confirm/", {"code": sent_code()})
    assert response.json() == {"backup_codes": []}
    body = start_login(anon_client, flavour, user)
    assert (body["method"], body["other_methods"]) == ("email", ["sms_custom"])
    token = body["ephemeral_token"]
    anon_client.post(flavour.resend, {"ephemeral_token": token, "method": "sms_custom"})
    response = anon_client.post(
        flavour.code, {"ephemeral_token": token, "code": sent_code(), "method": "sms_custom"}
    )
    assert response.status_code == 200


def test_failed_trench_style_response_is_503_and_leaves_no_usable_code(
    user: Any, api_client: APIClient, trench_auth: Callable[..., Any]
) -> None:
    trench_auth(
        methods={
            "sms_custom": {
                "HANDLER": "tests.support.dispatchers.FailingResponseDispatcher",
                "SOURCE_FIELD": "phone_number",
            }
        }
    )
    assert_error(api_client.post("/auth/sms_custom/activate/"), 503, "dispatch_failed")
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()
    # The failed activation is rolled back: no pending method is left behind.
    assert not MFAMethod.objects.filter(user=user).exists()
    response = api_client.post("/auth/sms_custom/activate/confirm/", {"code": sent_code()})
    assert_error(response, 400, "mfa_method_does_not_exist")

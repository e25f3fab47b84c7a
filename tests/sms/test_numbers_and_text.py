"""Phone numbers are checked and normalised before any provider call; SMS text.

Invalid or missing numbers give 400 ``invalid_input`` with zero requests to
the provider (a real Twilio client pointed at a loopback stub) and no code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.utils.functional import Promise
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from tests.conftest import assert_error, username_field
from tests.support import sms_outbox as outbox
from tests.support.sms_outbox import OUTBOX, OutboxSMSDispatcher
from tests.support.sms_providers import PHONE, TWILIO
from trench_mfa.backends.sms import SMSMessageDispatcher, normalise_phone_number
from trench_mfa.models import MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db

INVALID_NUMBERS = [
    "",
    "+1 555",
    "abc",
    "+0123456789",
    "48600100200",
    "+48600100200123456",
    "+4860010020",
    "00",
    "+",
    "+48 600 100 200 ext. x" * 20,
]


@pytest.mark.parametrize("number", INVALID_NUMBERS)
def test_invalid_or_missing_numbers_are_400_with_no_request(
    number: str,
    stub: HTTPServer,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    sms_methods(sms_twilio=TWILIO.settings(stub.url_for("/").rstrip("/")))
    client = client_for(user_factory(phone_number=number[:32]))

    response = client.post("/auth/sms_twilio/activate/")

    assert_error(
        response, 400, "invalid_input", "This account has no valid address for this method."
    )
    assert len(stub.log) == 0
    assert not OneTimeCode.objects.exists()


@pytest.mark.parametrize(
    ("stored", "region", "sent_to"),
    [
        ("+48600100200", None, "+48600100200"),
        ("+48 600-100-200", None, "+48600100200"),
        (" +48 (600) 100 200 ", None, "+48600100200"),
        ("600 100 200", "PL", "+48600100200"),
        ("+1 202 555 0123", "PL", "+12025550123"),
    ],
)
def test_numbers_are_sent_in_e164(
    stored: str,
    region: str | None,
    sent_to: str,
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    sms_methods(sms={**OUTBOX, "DEFAULT_REGION": region})
    response = client_for(user_factory(phone_number=stored)).post("/auth/sms/activate/")
    assert response.status_code == 200, response.content
    assert outbox.sent[0][0] == sent_to


def test_normalise_rejects_non_numbers() -> None:
    assert normalise_phone_number(None) is None
    assert normalise_phone_number("+48600100200") == PHONE
    assert normalise_phone_number("600100200") is None
    assert normalise_phone_number("600100200", "PL") == PHONE
    assert normalise_phone_number("+48" + "6" * 70) is None
    assert normalise_phone_number(" +48600100200\n") == PHONE


def test_source_field_names_another_attribute(
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    field = username_field()  # "username", or "email" on an email-only user model
    sms_methods(sms={**OUTBOX, "SOURCE_FIELD": field})
    user = user_factory(phone_number=PHONE, **{field: "+12025550123"})
    assert client_for(user).post("/auth/sms/activate/").status_code == 200
    assert outbox.sent[0][0] == "+12025550123"


# --- SMS_BODY ---------------------------------------------------------------------------


def sent_text(client: APIClient, method: str = "sms") -> str:
    """Activate ``method`` and return the recorded text."""
    response = client.post(f"/auth/{method}/activate/")
    assert response.status_code == 200, response.content
    return outbox.sent[-1][1]


def test_default_text_has_code_and_lifetime(
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    sms_methods(sms=OUTBOX)
    text = sent_text(phone_client)
    assert re.fullmatch(r"Your verification code is \d{6}\. It expires in 5 minutes\.", text)


def test_lifetime_is_rounded_up_to_minutes(
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    sms_methods(sms={**OUTBOX, "VALIDITY_PERIOD": 90})
    assert sent_text(phone_client).endswith("It expires in 2 minutes.")


def test_custom_body_gets_code_minutes_and_seconds(
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    fixed_code: str,
) -> None:
    sms_methods(sms={**OUTBOX, "SMS_BODY": "{code} - valid {minutes} min / {seconds} s"})
    assert sent_text(phone_client) == f"{fixed_code} - valid 5 min / 300 s"


def test_default_body_is_translatable() -> None:
    assert isinstance(SMSMessageDispatcher.default_sms_body, Promise)


@pytest.mark.parametrize("template", ["{cod}", "{code", "{0}", "{code.__class__.x}"])
def test_broken_body_fails_closed(
    template: str,
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    sms_methods(sms={**OUTBOX, "SMS_BODY": template})
    response = phone_client.post("/auth/sms/activate/")
    assert_error(response, 503, "dispatch_failed")
    assert outbox.sent == []
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("timeout", "expected"), [(None, 10.0), (2, 2.0), ("0.5", 0.5), (60, 10.0), (0, 10.0)]
)
def test_timeout_is_capped_at_ten_seconds(timeout: Any, expected: float, phone_user: Any) -> None:
    method = MFAMethod(user=phone_user, name="sms")
    assert OutboxSMSDispatcher(method, {"TIMEOUT": timeout}).timeout == expected


def test_timeout_that_is_not_a_number_fails_closed(
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    stub: HTTPServer,
) -> None:
    sms_methods(sms_twilio={**TWILIO.settings(stub.url_for("/")), "TIMEOUT": "soon"})
    assert_error(phone_client.post("/auth/sms_twilio/activate/"), 503, "dispatch_failed")
    assert len(stub.log) == 0

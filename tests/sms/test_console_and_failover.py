"""The console dispatcher's ``DEBUG`` switch, and failover between providers."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.support.sms_providers import AWS, SMSAPI, TWILIO, sms_text
from tests.support.sms_stubs import closed_port_url
from trench_mfa.models import OneTimeCode

pytestmark = pytest.mark.django_db

CONSOLE = {
    "HANDLER": "trench_mfa.backends.console.ConsoleMessageDispatcher",
    "SOURCE_FIELD": "phone_number",
}


def console_line(caplog: pytest.LogCaptureFixture) -> str:
    """The one message the console dispatcher logged."""
    [record] = [r for r in caplog.records if r.name == "trench_mfa.console"]
    return record.getMessage()


def console_activation(
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    debug: Any,
) -> str:
    """Start SMS activation through the console dispatcher with ``DEBUG=debug``; its message."""
    caplog.set_level(logging.DEBUG)
    sms_methods(sms={**CONSOLE, "DEBUG": debug})
    assert phone_client.post("/auth/sms/activate/").status_code == 200
    return console_line(caplog)


# --- console -----------------------------------------------------------------------------


def test_console_prints_the_code_only_with_debug(
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    fixed_code: str,
) -> None:
    line = console_activation(phone_client, sms_methods, caplog, debug=True)
    assert line == f"SMS to +48******200 (console dispatcher, DEBUG): {sms_text(fixed_code)}"
    assert "+48600100200" not in caplog.text


@pytest.mark.parametrize("debug", [None, False, "yes", 1])
def test_console_hides_the_code_without_debug(
    debug: Any,
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
    fixed_code: str,
) -> None:
    assert "+48******200" in console_activation(phone_client, sms_methods, caplog, debug=debug)
    assert fixed_code not in caplog.text


def test_demo_project_sms_method_uses_the_console(
    phone_client: APIClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert phone_client.post("/auth/sms/activate/").status_code == 200
    code = re.search(r"\b(\d{6})\b", console_line(caplog))
    assert code
    assert (
        phone_client.post("/auth/sms/activate/confirm/", {"code": code.group(1)}).status_code == 200
    )


# --- failover ----------------------------------------------------------------------------


def failover(*providers: str, **options: Any) -> dict[str, Any]:
    """An ``MFA_METHODS`` entry for the failover method."""
    return {
        "HANDLER": "trench_mfa.backends.sms.FailoverSMSDispatcher",
        "SOURCE_FIELD": "phone_number",
        "PROVIDERS": list(providers),
        **options,
    }


def url(server: HTTPServer) -> str:
    """The stub's origin."""
    return server.url_for("/").rstrip("/")


def test_first_provider_down_second_sends_the_same_code(
    stub: HTTPServer,
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sms_methods(
        sms_twilio=TWILIO.settings(url(stub)),
        sms_aws=AWS.settings(url(stub)),
        sms=failover("sms_twilio", "sms_aws"),
    )
    TWILIO.expect(stub, "server_error")
    AWS.expect(stub)

    response = phone_client.post("/auth/sms/activate/")

    assert response.status_code == 200, response.content
    assert [entry[0].path for entry in stub.log] == [TWILIO.path, AWS.path]
    code = re.search(r"\b(\d{6})\b", stub.log[1][0].form["Message"])
    assert code
    TWILIO.check(stub.log[0][0], sms_text(code.group(1)))
    AWS.check(stub.log[1][0], sms_text(code.group(1)))
    assert "SMS provider 'sms_twilio' failed (Twilio answered HTTP 500" in caplog.text
    assert (
        phone_client.post("/auth/sms/activate/confirm/", {"code": code.group(1)}).status_code == 200
    )


def test_refused_first_provider_fails_over(
    stub: HTTPServer,
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    sms_methods(
        sms_api=SMSAPI.settings(closed_port_url()),
        sms_twilio=TWILIO.settings(url(stub)),
        sms=failover("sms_api", "sms_twilio"),
    )
    TWILIO.expect(stub)
    assert phone_client.post("/auth/sms/activate/").status_code == 200
    assert len(stub.log) == 1


def test_all_providers_down_is_503_and_no_code(
    stub: HTTPServer,
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    fixed_code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sms_methods(
        sms_twilio=TWILIO.settings(url(stub)),
        sms_aws=AWS.settings(closed_port_url()),
        sms=failover("sms_twilio", "sms_aws"),
    )
    TWILIO.expect(stub, "client_error")

    response = phone_client.post("/auth/sms/activate/")

    assert_error(response, 503, "dispatch_failed")
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()
    logs = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))
    for secret in (fixed_code, *TWILIO.secrets, *AWS.secrets):
        assert secret not in logs


@pytest.mark.parametrize("providers", [[], ["nope"], ["sms"], ["email"], "sms_twilio"], ids=repr)
def test_bad_providers_setting_fails_closed(
    providers: Any,
    stub: HTTPServer,
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
) -> None:
    sms_methods(sms_twilio=TWILIO.settings(url(stub)), sms={**failover(), "PROVIDERS": providers})
    assert_error(phone_client.post("/auth/sms/activate/"), 503, "dispatch_failed")
    assert len(stub.log) == 0


def test_failover_text_is_its_own_sms_body(
    stub: HTTPServer,
    phone_client: APIClient,
    sms_methods: Callable[..., dict[str, Any]],
    fixed_code: str,
) -> None:
    sms_methods(
        sms_twilio={**TWILIO.settings(url(stub)), "SMS_BODY": "twilio text {code}"},
        sms=failover("sms_twilio", SMS_BODY="Kod: {code}"),
    )
    TWILIO.expect(stub)
    assert phone_client.post("/auth/sms/activate/").status_code == 200
    assert stub.log[0][0].form["Body"] == f"Kod: {fixed_code}"

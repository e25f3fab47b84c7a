"""The custom dispatcher of ``docs/custom-dispatcher.rst`` against a loopback stub."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.support.sms_providers import PHONE, sms_text
from trench_mfa.models import OneTimeCode

pytestmark = pytest.mark.django_db

TOKEN = "gateway-token-c0ffee"


@pytest.fixture
def gateway(stub: HTTPServer, sms_methods: Callable[..., dict[str, Any]]) -> HTTPServer:
    """The ``sms_gateway`` method configured against the stub."""
    sms_methods(
        sms_gateway={
            "HANDLER": "tests.sms.example_gateway.ExampleGatewayDispatcher",
            "SOURCE_FIELD": "phone_number",
            "ENDPOINT_URL": stub.url_for("/"),
            "GATEWAY_TOKEN": TOKEN,
            "TIMEOUT": 2,
        }
    )
    return stub


def test_example_gateway_sends_and_the_code_confirms(
    gateway: HTTPServer, phone_client: APIClient
) -> None:
    gateway.expect_request("/v1/messages", method="POST").respond_with_data("", status=202)

    assert phone_client.post("/auth/sms_gateway/activate/").status_code == 200

    [(request, _response)] = gateway.log
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = request.get_json()
    code = re.search(r"\b(\d{6})\b", body["text"])
    assert code
    assert body == {"to": PHONE, "text": sms_text(code.group(1))}
    confirm = phone_client.post("/auth/sms_gateway/activate/confirm/", {"code": code.group(1)})
    assert confirm.status_code == 200


def test_example_gateway_error_is_503(gateway: HTTPServer, phone_client: APIClient) -> None:
    gateway.expect_request("/v1/messages", method="POST").respond_with_data("", status=500)
    assert_error(phone_client.post("/auth/sms_gateway/activate/"), 503, "dispatch_failed")
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()


def test_the_documented_example_is_this_dispatcher() -> None:
    """``docs/custom-dispatcher.rst`` shows exactly the class tested here."""
    root = Path(__file__).resolve().parents[2]
    doc = (root / "docs" / "custom-dispatcher.rst").read_text()
    block = doc.split(".. code-block:: python\n\n", 1)[1].split("\n\nName it", 1)[0]
    documented = "\n".join(line[3:] for line in block.splitlines())
    source = (Path(__file__).parent / "example_gateway.py").read_text()
    assert documented.strip() in source

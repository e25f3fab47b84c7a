"""Each provider's official client against a loopback stub of its API.

Success: the exact request (path, auth, to, from, text with the code) and a
code that confirms the activation. Failures (4xx, 5xx, timeout, refused
connection): 503 ``dispatch_failed`` with the generic body, one request at
most (no library retries), no usable code left, the per-number quota given
back, and neither the code nor a credential in the response or the logs.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient
from werkzeug import Request, Response

from tests.support.sms_providers import PROVIDERS, Provider, sms_text
from tests.support.sms_stubs import closed_port_url
from trench_mfa.models import MFAMethod, OneTimeCode, SendQuota

pytestmark = pytest.mark.django_db

GENERIC_503 = {
    "error": "The code could not be sent. Please try again later.",
    "error_code": "dispatch_failed",
}


@pytest.fixture(params=PROVIDERS, ids=repr)
def provider(request: pytest.FixtureRequest) -> Provider:
    """Each provider in turn."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def server(provider: Provider, request: pytest.FixtureRequest) -> HTTPServer:
    """The stub for ``provider``: HTTPS for Vonage (its SDK only speaks HTTPS)."""
    return request.getfixturevalue("tls_stub" if provider.tls else "stub")  # type: ignore[no-any-return]


@pytest.fixture
def configure(
    provider: Provider, sms_methods: Callable[..., dict[str, Any]]
) -> Callable[..., None]:
    """Configure ``provider`` with ``ENDPOINT_URL`` and extra options."""

    def apply(url: str, **options: Any) -> None:
        sms_methods(**{provider.name: {**provider.settings(url), **options}})

    return apply


def base_url(server: HTTPServer) -> str:
    """The stub's origin, e.g. ``http://127.0.0.1:38211``."""
    return server.url_for("/").rstrip("/")


def assert_nothing_left(phone_user: Any) -> None:
    """No usable code and no counted send remain after a failed dispatch."""
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()
    assert all(row.sent_at == [] for row in SendQuota.objects.all())
    assert MFAMethod.objects.filter(user=phone_user, is_active=True).count() == 0


def app_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record except the stub server's own access log."""
    return "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("werkzeug")
    )


def assert_no_secrets(text: str, provider: Provider, code: str) -> None:
    """Neither the code nor any credential of ``provider`` occurs in ``text``."""
    assert code not in text
    for secret in provider.secrets:
        assert secret not in text


@pytest.fixture
def failed_activation(
    provider: Provider,
    phone_client: APIClient,
    phone_user: Any,
    fixed_code: str,
    caplog: pytest.LogCaptureFixture,
) -> Callable[[], Any]:
    """Activate ``provider``, expecting its dispatch to fail; the response.

    Records are captured at DEBUG from the start of the test. The answer
    must be the generic 503 with nothing usable left, and neither the code
    nor a credential may be in the answer or in any record.
    """
    caplog.set_level(logging.DEBUG)

    def activate() -> Any:
        response = phone_client.post(f"/auth/{provider.name}/activate/")
        assert response.status_code == 503
        assert response.json() == GENERIC_503
        assert_nothing_left(phone_user)
        assert_no_secrets(app_logs(caplog) + response.content.decode(), provider, fixed_code)
        return response

    return activate


def test_success_sends_the_exact_request(
    provider: Provider,
    server: HTTPServer,
    configure: Callable[..., None],
    phone_client: APIClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    configure(base_url(server))
    provider.expect(server)

    response = phone_client.post(f"/auth/{provider.name}/activate/")

    assert response.status_code == 200, response.content
    assert response.json() == {"details": "SMS message with MFA code has been sent."}
    assert len(server.log) == 1
    request = server.log[0][0]
    code = re.search(r"\b(\d{6})\b", request.form.to_dict().get(_text_field(provider), ""))
    assert code, request.form
    provider.check(request, sms_text(code.group(1)))
    assert_no_secrets(app_logs(caplog) + response.content.decode(), provider, code.group(1))
    confirm = phone_client.post(f"/auth/{provider.name}/activate/confirm/", {"code": code.group(1)})
    assert confirm.status_code == 200, confirm.content


def _text_field(provider: Provider) -> str:
    return {"sms_twilio": "Body", "sms_api": "message", "sms_aws": "Message"}.get(
        provider.name, "text"
    )


@pytest.mark.parametrize("kind", ["client_error", "server_error"])
def test_http_errors_give_a_generic_503(
    provider: Provider,
    server: HTTPServer,
    configure: Callable[..., None],
    fixed_code: str,
    caplog: pytest.LogCaptureFixture,
    failed_activation: Callable[[], Any],
    kind: str,
) -> None:
    configure(base_url(server))
    answer = provider.expect(server, kind)

    failed_activation()

    assert len(server.log) == 1, "the client library must not retry"
    assert fixed_code in server.log[0][0].get_data(as_text=True)
    assert f"HTTP {answer.status}" in app_logs(caplog) or provider.name == "sms_api"


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Unblocks the slow stub handler at the end of the test."""
    event = threading.Event()
    yield event
    event.set()


def test_timeout_gives_a_generic_503(
    provider: Provider,
    server: HTTPServer,
    configure: Callable[..., None],
    failed_activation: Callable[[], Any],
    release: threading.Event,
) -> None:
    configure(base_url(server), TIMEOUT=0.3)
    arrived = threading.Event()

    def hang(request: Request) -> Response:
        arrived.set()
        release.wait(60)  # far beyond the timeout: only the timeout can end the call
        return Response(provider.ok.body, status=provider.ok.status)

    server.expect_request(provider.path, method="POST").respond_with_handler(hang)

    started = time.monotonic()
    failed_activation()
    elapsed = time.monotonic() - started

    assert arrived.is_set()
    # Vonage's SDK takes whole seconds, so its 0.3 s becomes 1 s; the margin
    # up to 20 s is for a loaded machine, still far below the 60 s hang.
    assert elapsed < 20


def test_refused_connection_gives_a_generic_503(
    provider: Provider, configure: Callable[..., None], failed_activation: Callable[[], Any]
) -> None:
    configure(closed_port_url("https" if provider.tls else "http"))

    failed_activation()


def test_missing_credentials_fail_closed(
    provider: Provider,
    server: HTTPServer,
    sms_methods: Callable[..., dict[str, Any]],
    phone_client: APIClient,
    phone_user: Any,
) -> None:
    sms_methods(**{provider.name: {"ENDPOINT_URL": base_url(server)}})

    response = phone_client.post(f"/auth/{provider.name}/activate/")

    assert response.status_code == 503
    assert response.json() == GENERIC_503
    assert len(server.log) == 0
    assert_nothing_left(phone_user)

"""Fixtures of the SMS tests: loopback provider stubs, settings, a network guard.

Every provider test drives the real client library against a pytest-httpserver
stub on 127.0.0.1. A guard makes any connection to another address fail, so
a test that forgets ``ENDPOINT_URL`` cannot reach a real provider.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from tests.support import sms_outbox as outbox
from trench_mfa.backends import aws

PHONE = "+48600100200"
#: A code the tests force, so failure paths can search the logs for it.
FIXED_CODE = "493817"

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_real_connect = socket.socket.connect


def _guarded_connect(sock: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and sock.family in (socket.AF_INET, socket.AF_INET6):
        if host not in _LOOPBACK:
            raise ConnectionRefusedError(f"test network guard: {host} is not loopback")
    return _real_connect(sock, address)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No connection beyond loopback; no provider credentials from the environment."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_REGION",
        "TWILIO_EDGE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_REGION",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "https_proxy",
        "http_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    # boto3 must not read a developer's files or ask an instance metadata service.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    aws._sns_client.cache_clear()
    outbox.sent.clear()
    outbox.fail_next = 0


@pytest.fixture
def fixed_code(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make every generated code :data:`FIXED_CODE`."""
    monkeypatch.setattr(
        "trench_mfa.state.codes.crypto.generate_numeric_code", lambda length: FIXED_CODE
    )
    return FIXED_CODE


@pytest.fixture
def sequential_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated codes are 100001, 100002, ...: distinct, so old ones are testable."""
    counter = itertools.count(100001)
    monkeypatch.setattr(
        "trench_mfa.state.codes.crypto.generate_numeric_code",
        lambda length: str(next(counter)),
    )


@pytest.fixture(scope="session")
def _plain_server() -> Iterator[HTTPServer]:
    # Threaded: the timeout tests block one handler while others may run.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def stub(_plain_server: HTTPServer) -> Iterator[HTTPServer]:
    """An HTTP provider stub on 127.0.0.1 (cleared before and after each test)."""
    _plain_server.clear()
    yield _plain_server
    _plain_server.clear()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "stub.pem", directory / "stub.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="session")
def _tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HTTPServer, Path]]:
    cert_path, key_path = _self_signed(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context, threaded=True)
    server.start()
    yield server, cert_path
    server.clear()
    server.stop()


@pytest.fixture
def tls_stub(
    _tls_server: tuple[HTTPServer, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[HTTPServer]:
    """An HTTPS stub on 127.0.0.1 whose certificate ``requests`` trusts (Vonage)."""
    server, cert_path = _tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_path))
    server.clear()
    yield server
    server.clear()


def closed_port_url(scheme: str = "http") -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}"


@pytest.fixture
def sms_methods(
    trench_auth: Callable[..., dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """Configure SMS methods on top of the project's: ``sms_methods(name=config, ...)``."""

    def configure(**methods: Any) -> dict[str, Any]:
        overrides = methods.pop("settings", {})
        return trench_auth(methods=methods, **overrides)  # type: ignore[no-any-return]

    return configure


@pytest.fixture
def phone_user(user_factory: Callable[..., Any]) -> Any:
    """A user with a valid mobile number."""
    return user_factory(username="sms-user", phone_number=PHONE)

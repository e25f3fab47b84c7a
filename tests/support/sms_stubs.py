"""Loopback stubs of the SMS providers' APIs and a guard against any other network.

A pytest plugin (the root conftest loads it): ``stub`` (HTTP) and
``tls_stub`` (HTTPS, for Vonage's SDK) are pytest-httpserver instances on
127.0.0.1 that the official clients reach through ``ENDPOINT_URL``; what
each provider expects and answers is in :mod:`tests.support.sms_providers`.
``loopback_only`` makes a connection to any other address fail and hides
provider credentials of the environment, so a test that forgets
``ENDPOINT_URL`` cannot reach a real provider.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer

from trench_mfa.backends import aws

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_real_connect = socket.socket.connect


def _guarded_connect(sock: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and sock.family in (socket.AF_INET, socket.AF_INET6):
        if host not in _LOOPBACK:
            raise ConnectionRefusedError(f"test network guard: {host} is not loopback")
    return _real_connect(sock, address)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
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

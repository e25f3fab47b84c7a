"""A Yubico validation server (protocol 2.0) on loopback, and YubiKey fixtures.

:class:`FakeValidationServer` is written from the protocol description, not
from yubico-client: it checks the request signature, echoes ``otp`` and
``nonce``, remembers OTPs (``REPLAYED_OTP``) and OTP+nonce pairs
(``REPLAYED_REQUEST``), and can be told to misbehave.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient
from werkzeug import Request, Response

from tests.conftest import credentials

MODHEX = "cbdefghijklnrtuv"
CLIENT_ID = "4711"
API_KEY = base64.b64encode(b"loopback-yubicloud-key!!").decode()
PATH = "/wsapi/2.0/verify"


def make_otp(public_id: str = "ccccccbcgujh") -> str:
    """A fresh OTP of the key ``public_id``: the id plus 32 random modhex characters."""
    return public_id + "".join(secrets.choice(MODHEX) for _ in range(32))


def server_sign(params: dict[str, str], key_b64: str = API_KEY) -> str:
    """The protocol's signature, computed independently of the code under test."""
    message = "&".join(f"{k}={params[k]}" for k in sorted(params))
    digest = hmac.new(base64.b64decode(key_b64), message.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass
class FakeValidationServer:
    """Answers like YubiCloud; ``mode`` makes it misbehave for one test."""

    requests: list[dict[str, str]] = field(default_factory=list)
    seen_otps: set[str] = field(default_factory=set)
    seen_pairs: set[tuple[str, str]] = field(default_factory=set)
    bad_otps: set[str] = field(default_factory=set)
    mode: str = "normal"
    require_signature: bool = True
    release: threading.Event = field(default_factory=threading.Event)

    def status_for(self, params: dict[str, str]) -> str:
        """What a real server would say about this request."""
        signature = params.get("h")
        unsigned = {k: v for k, v in params.items() if k != "h"}
        if signature is None and not self.require_signature:
            pass
        elif signature is None or not hmac.compare_digest(signature, server_sign(unsigned)):
            return "BAD_SIGNATURE"
        otp, nonce = params.get("otp", ""), params.get("nonce", "")
        if (otp, nonce) in self.seen_pairs:
            return "REPLAYED_REQUEST"
        self.seen_pairs.add((otp, nonce))
        if otp in self.bad_otps:
            return "BAD_OTP"
        if otp in self.seen_otps:
            return "REPLAYED_OTP"
        self.seen_otps.add(otp)
        return "OK"

    def answer(self, params: dict[str, str]) -> dict[str, str]:
        """The signed answer fields for ``params`` (before ``mode`` tampering)."""
        status = self.status_for(params)
        if self.mode.startswith("status:"):
            status = self.mode.removeprefix("status:")
        fields = {
            "t": "2026-01-01T00:00:00Z0123",
            "otp": params.get("otp", ""),
            "nonce": params.get("nonce", ""),
            "sl": "100",
            "status": status,
        }
        if self.mode == "wrong_otp":
            fields["otp"] = make_otp()
        elif self.mode == "wrong_nonce":
            fields["nonce"] = "x" * 25
        elif self.mode == "no_echo":
            del fields["otp"], fields["nonce"]
        elif self.mode == "no_status":
            del fields["status"]
        return fields

    def handle(self, request: Request) -> Response:
        """The pytest-httpserver handler."""
        params = dict(request.args.items())
        self.requests.append(params)
        if self.mode == "hang":
            self.release.wait(10)  # until the test ends; the client gives up first
            return Response("", status=504)
        if self.mode == "http500":
            return Response("oops", status=500)
        fields = self.answer(params)
        signature = server_sign(fields)
        if self.mode == "forged":
            signature = server_sign(fields, base64.b64encode(b"attacker-key").decode())
        lines = [f"h={signature}"] if self.mode != "unsigned" else []
        lines += [f"{k}={v}" for k, v in fields.items()]
        if self.mode == "double_status":
            lines.append("status=OK")
        return Response("\r\n".join(lines) + "\r\n", content_type="text/plain")


def yubi_method(url: str, **options: Any) -> dict[str, Any]:
    """A ``MFA_METHODS`` entry of a YubiKey method validating at ``url`` (1 s timeout)."""
    return {
        "HANDLER": "trench_mfa.backends.yubikey.YubiKeyMessageDispatcher",
        "YUBICLOUD_CLIENT_ID": CLIENT_ID,
        "YUBICLOUD_SECRET_KEY": API_KEY,
        "YUBICLOUD_API_URLS": [url],
        "YUBICLOUD_TIMEOUT": 1,
        **options,
    }


@pytest.fixture
def yubicloud(httpserver: HTTPServer) -> Iterator[FakeValidationServer]:
    """The fake validation server at ``httpserver``'s ``/wsapi/2.0/verify``."""
    server = FakeValidationServer()
    httpserver.expect_request(PATH).respond_with_handler(server.handle)
    yield server
    server.release.set()


@pytest.fixture
def yubi_settings(settings: Any, httpserver: HTTPServer) -> Callable[..., dict[str, Any]]:
    """Add a ``yubi`` method pointed at the loopback server: ``yubi_settings(**options)``."""
    base = settings.TRENCH_AUTH

    def configure(**options: Any) -> dict[str, Any]:
        method = yubi_method(httpserver.url_for(PATH), **options)
        settings.TRENCH_AUTH = {
            **base,
            "MFA_METHODS": {**base["MFA_METHODS"], "yubi": method},
        }
        return settings.TRENCH_AUTH  # type: ignore[no-any-return]

    configure()
    return configure


def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{PATH}"


#: The public id :func:`make_otp` uses unless told otherwise.
KEY = "ccccccbcgujh"

#: Answer modes of :class:`FakeValidationServer`, by what the login must make of them.
#: A signed rejection: a wrong code that counts against the user.
SIGNED_REJECTIONS = ("status:BAD_OTP", "status:REPLAYED_OTP", "status:REPLAYED_REQUEST")
#: Forged or garbled answers: a wrong code, but never counted (they must not lock anyone out).
UNTRUSTWORTHY_ANSWERS = (
    "forged",
    "unsigned",
    "wrong_otp",
    "wrong_nonce",
    "no_echo",
    "no_status",
    "double_status",
    "status:NOT_A_STATUS",
)
#: The service failing: 503, not the user's fault.
SERVICE_FAILURES = (
    "status:BACKEND_ERROR",
    "status:NOT_ENOUGH_ANSWERS",
    "status:BAD_SIGNATURE",
    "status:NO_SUCH_CLIENT",
    "http500",
    "hang",
)


@pytest.fixture
def yubi_user(
    user: Any, api_client: APIClient, yubicloud: FakeValidationServer, yubi_settings: Any
) -> Any:
    """``user`` with the ``yubi`` method active and bound to :data:`KEY`; no request logged yet."""
    assert api_client.post("/auth/yubi/activate/").status_code == 200
    response = api_client.post("/auth/yubi/activate/confirm/", {"code": make_otp(KEY)})
    assert response.status_code == 200, response.content
    yubicloud.requests.clear()
    return user


def yubi_login(client: APIClient, user: Any) -> str:
    """Login step 1 (JWT) of a user whose primary method is ``yubi``; the ephemeral token."""
    response = client.post("/auth/jwt/login/", credentials(user))
    assert response.status_code == 200, response.content
    assert response.json()["method"] == "yubi"
    return str(response.json()["ephemeral_token"])


def yubi_answer(client: APIClient, token: str, otp: str) -> Any:
    """Login step 2 (JWT) with ``otp``."""
    return client.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": otp})


def login_while_server_answers(
    mode: str, client: APIClient, user: Any, server: FakeValidationServer
) -> tuple[str, Any]:
    """Both login steps, with a fresh OTP of :data:`KEY` while ``server`` answers in ``mode``.

    Returns the ephemeral token (to try it again afterwards) and step 2's response.
    """
    token = yubi_login(client, user)
    server.mode = mode
    return token, yubi_answer(client, token, make_otp(KEY))


def yubi_login_status(client: APIClient, user: Any, otp: str | None = None) -> int:
    """Both login steps with ``otp`` (default: a fresh OTP of :data:`KEY`); step 2's status."""
    return int(yubi_answer(client, yubi_login(client, user), otp or make_otp(KEY)).status_code)

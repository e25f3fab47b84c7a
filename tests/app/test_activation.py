"""Activating the authenticator app method: seed, otpauth URI, QR code, expiry."""

from __future__ import annotations

import base64
import socket
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
import qrcode
import qrcode.constants
import time_machine
from rest_framework.test import APIClient

from tests.app import qr_decode
from tests.conftest import assert_error, credentials
from tests.support.app import activate_app, parse_uri, totp_from_uri
from trench_mfa.backends.application import new_secret
from trench_mfa.models import MFAMethod
from trench_mfa.state.secrets_at_rest import decrypt_secret

T0 = 1_700_000_000  # a fixed server time; steps are T0 // 30 + n


def _b32decode(value: str) -> bytes:
    return base64.b32decode(value + "=" * (-len(value) % 8))


def test_activate_returns_the_otpauth_uri_and_a_local_qr_code(
    api_client: APIClient, user: Any
) -> None:
    response = api_client.post("/auth/app/activate/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert set(body) == {"details", "qr_code"}
    issuer, account, query = parse_uri(body["details"])
    login = user.get_username()  # "alice", or her address on an email-only model
    assert (issuer, account) == ("trench_mfa demo", login)
    assert body["details"].startswith(f"otpauth://totp/trench_mfa%20demo:{login}?")
    assert query == {
        "secret": query["secret"],
        "issuer": "trench_mfa demo",
        "algorithm": "SHA1",
        "digits": "6",
        "period": "30",
    }
    secret = query["secret"]
    assert "=" not in secret and len(secret) == 32
    assert len(_b32decode(secret)) == 20
    method = MFAMethod.objects.get(user=user, name="app")
    assert not method.is_active
    assert decrypt_secret(method.secret) == secret
    assert body["qr_code"].startswith("data:image/svg+xml;base64,")


def test_two_activations_get_different_secrets(
    user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    first = parse_uri(activate_app(client_for(user_factory()))["details"])[2]["secret"]
    second = parse_uri(activate_app(client_for(user_factory()))["details"])[2]["secret"]
    assert first != second


def test_reactivation_replaces_the_pending_secret(api_client: APIClient, user: Any) -> None:
    with time_machine.travel(T0, tick=False):
        old = totp_from_uri(activate_app(api_client)["details"])
        new_uri = activate_app(api_client)["details"]
        new = totp_from_uri(new_uri)
        assert old.secret != new.secret
        response = api_client.post("/auth/app/activate/confirm/", {"code": old.now()})
        assert_error(response, 400, "code_invalid_or_expired")
        response = api_client.post("/auth/app/activate/confirm/", {"code": new.now()})
        assert response.status_code == 200, response.content
    assert MFAMethod.objects.get(user=user, name="app").is_active


def test_secret_key_length_is_a_minimum_and_follows_the_hash() -> None:
    assert len(_b32decode(new_secret("SHA1", 16))) == 20
    assert len(new_secret("SHA1", 40)) == 40
    assert len(_b32decode(new_secret("SHA256", 32))) == 32
    assert len(_b32decode(new_secret("SHA512", 32))) == 64


def test_secret_key_length_setting_is_honoured(api_client: APIClient, settings: Any) -> None:
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "SECRET_KEY_LENGTH": 48}
    secret = parse_uri(activate_app(api_client)["details"])[2]["secret"]
    assert len(secret) == 48 and len(_b32decode(secret)) == 30


def test_configured_parameters_are_written_into_the_uri(
    app_options: Callable[..., Any], api_client: APIClient
) -> None:
    app_options(DIGITS=8, ALGORITHM="SHA512", VALIDITY_PERIOD=60)
    with time_machine.travel(T0, tick=False):
        uri = activate_app(api_client)["details"]
        _, _, query = parse_uri(uri)
        assert (query["algorithm"], query["digits"], query["period"]) == ("SHA512", "8", "60")
        assert len(_b32decode(query["secret"])) == 64
        code = totp_from_uri(uri).now()
        assert len(code) == 8
        # A 6-digit string is not a valid format for this method (malformed input).
        response = api_client.post("/auth/app/activate/confirm/", {"code": code[:6]})
        assert_error(response, 400, "invalid_input", "Code invalid or expired.")
        response = api_client.post("/auth/app/activate/confirm/", {"code": code})
        assert response.status_code == 200, response.content


def test_colon_in_account_is_encoded_consistently(
    user_factory: Callable[..., Any], client_for: Callable[[Any], APIClient]
) -> None:
    # Django's username validator forbids ":", but custom USERNAME_FIELDs may not.
    client = client_for(user_factory(username="bob:smith@example.com"))
    uri = activate_app(client)["details"]
    assert uri.startswith("otpauth://totp/trench_mfa%20demo:bob%3Asmith@example.com?")
    label = uri.split("?", 1)[0].removeprefix("otpauth://totp/")
    assert label.count(":") == 1  # the separator is the only literal ":"
    issuer, account, query = parse_uri(uri)
    assert (issuer, account) == ("trench_mfa demo", "bob:smith@example.com")
    assert query["issuer"] == issuer


def test_uri_round_trips_through_pyotp(api_client: APIClient, user: Any) -> None:
    uri = activate_app(api_client)["details"]
    parsed = pyotp.parse_uri(uri)
    assert parsed.issuer == "trench_mfa demo" and parsed.name == user.get_username()
    assert parsed.digits == 6 and parsed.interval == 30


def test_qr_svg_modules_equal_qrcodes_own_matrix(api_client: APIClient) -> None:
    body = activate_app(api_client)
    reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    reference.add_data(body["details"])
    reference.make(fit=True)
    svg = qr_decode.payload(body["qr_code"], "image/svg+xml")
    assert qr_decode.svg_matrix(svg) == reference.get_matrix()


def test_qr_svg_decodes_to_the_uri(api_client: APIClient) -> None:
    pytest.importorskip("zxingcpp")
    body = activate_app(api_client)
    svg = qr_decode.payload(body["qr_code"], "image/svg+xml")
    assert qr_decode.decode_matrix(qr_decode.svg_matrix(svg)) == body["details"]


def test_qr_png_decodes_to_the_uri(app_options: Callable[..., Any], api_client: APIClient) -> None:
    pytest.importorskip("zxingcpp")
    pytest.importorskip("png")
    app_options(QR_CODE_FORMAT="png")
    body = activate_app(api_client)
    data = qr_decode.payload(body["qr_code"], "image/png")
    assert data.startswith(b"\x89PNG")
    assert qr_decode.decode_png(data) == body["details"]


def test_activation_makes_no_network_connection(
    api_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        calls.append(address)
        raise AssertionError(f"outbound connection to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    activate_app(api_client)
    assert calls == []


def test_confirm_with_a_wrong_code_keeps_the_method_pending(
    api_client: APIClient, user: Any
) -> None:
    with time_machine.travel(T0, tick=False):
        totp = totp_from_uri(activate_app(api_client)["details"])
        wrong = f"{(int(totp.now()) + 1) % 10**6:06d}"
        response = api_client.post("/auth/app/activate/confirm/", {"code": wrong})
    assert_error(response, 400, "code_invalid_or_expired")
    method = MFAMethod.objects.get(user=user, name="app")
    assert not method.is_active and method.last_used_step is None


@pytest.mark.parametrize(
    "bad",
    ["12345", "1234567", "12a456", "\uff11\uff12\uff13\uff14\uff15\uff16", "+12345", " 1 2345"],
)
def test_confirm_with_a_malformed_code_is_a_field_error(api_client: APIClient, bad: str) -> None:
    activate_app(api_client)
    response = api_client.post("/auth/app/activate/confirm/", {"code": bad})
    assert_error(response, 400, "invalid_input", "Code invalid or expired.")
    assert set(response.json()) == {"code"}


def test_confirm_activates_and_returns_backup_codes(api_client: APIClient, user: Any) -> None:
    with time_machine.travel(T0, tick=False):
        totp = totp_from_uri(activate_app(api_client)["details"])
        response = api_client.post("/auth/app/activate/confirm/", {"code": totp.now()})
    assert response.status_code == 200
    assert len(response.json()["backup_codes"]) == 10
    method = MFAMethod.objects.get(user=user, name="app")
    assert method.is_active and method.is_primary
    assert method.last_used_step == T0 // 30


@pytest.mark.parametrize(("delay", "status"), [(899, 200), (900, 400), (901, 400)])
def test_unconfirmed_activation_expires_after_15_minutes(
    api_client: APIClient, delay: int, status: int
) -> None:
    with time_machine.travel(T0, tick=False):
        totp = totp_from_uri(activate_app(api_client)["details"])
    with time_machine.travel(T0 + delay, tick=False):
        response = api_client.post("/auth/app/activate/confirm/", {"code": totp.now()})
    if status == 400:
        assert_error(response, 400, "code_invalid_or_expired")
    else:
        assert response.status_code == status, response.content


def test_expired_activation_can_be_restarted_with_a_new_secret(api_client: APIClient) -> None:
    with time_machine.travel(T0, tick=False):
        old = totp_from_uri(activate_app(api_client)["details"])
    with time_machine.travel(T0 + 3600, tick=False):
        new = totp_from_uri(activate_app(api_client)["details"])
        assert new.secret != old.secret
        response = api_client.post("/auth/app/activate/confirm/", {"code": new.now()})
    assert response.status_code == 200, response.content


def test_pending_method_is_not_used_at_login(
    api_client: APIClient, anon_client: APIClient, user: Any
) -> None:
    activate_app(api_client)
    response = anon_client.post("/auth/jwt/login/", credentials(user))
    assert response.status_code == 200
    assert set(response.json()) == {"refresh", "access"}

"""Validation protocol 2.0 answer checks and signatures (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import pytest
from yubico_client import Yubico

from tests.support.yubikey import API_KEY, make_otp, server_sign
from trench_mfa.backends.yubico_protocol import Verdict, check_response, install_log_redaction, sign

KEY = base64.b64decode(API_KEY)
OTP = make_otp()
NONCE = "aBcDeFgHiJkLmNoPqRsTuVwXy"


def _answer(*, key: str | None = API_KEY, **fields: str) -> str:
    body = {
        "t": "2026-01-01T00:00:00Z0123",
        "otp": OTP,
        "nonce": NONCE,
        "sl": "100",
        "status": "OK",
    }
    body.update(fields)
    body = {k: v for k, v in body.items() if v != "<absent>"}
    lines = [f"{k}={v}" for k, v in body.items()]
    if key is not None:
        lines.insert(0, f"h={server_sign(body, key)}")
    return "\r\n".join(lines) + "\r\n"


def test_signature_of_a_fixed_request_matches_a_hand_computed_vector() -> None:
    pairs = [
        ("otp", "vvvvvvcucrlcietctckflvnncdgckubflugerlnr"),
        ("nonce", "0123456789abcdef"),
        ("id", "1"),
    ]
    message = b"id=1&nonce=0123456789abcdef&otp=vvvvvvcucrlcietctckflvnncdgckubflugerlnr"
    expected = base64.b64encode(hmac.new(KEY, message, hashlib.sha1).digest()).decode()
    assert sign(pairs, KEY) == expected
    # yubico-client, which signs our requests, computes the same value.
    query = "id=1&otp=vvvvvvcucrlcietctckflvnncdgckubflugerlnr&nonce=0123456789abcdef"
    assert Yubico("1", API_KEY).generate_message_signature(query) == expected


def test_a_genuine_ok_passes() -> None:
    assert check_response(_answer(), otp=OTP, nonce=NONCE, key=KEY) is Verdict.OK


@pytest.mark.parametrize(
    "status", ["BAD_OTP", "REPLAYED_OTP", "REPLAYED_REQUEST", "SOMETHING_NEW", ""]
)
def test_rejections(status: str) -> None:
    assert check_response(_answer(status=status), otp=OTP, nonce=NONCE, key=KEY) is Verdict.REJECTED


@pytest.mark.parametrize("status", ["BACKEND_ERROR", "NOT_ENOUGH_ANSWERS"])
def test_service_failures_are_unavailable(status: str) -> None:
    assert (
        check_response(_answer(status=status), otp=OTP, nonce=NONCE, key=KEY) is Verdict.UNAVAILABLE
    )


@pytest.mark.parametrize(
    "status", ["BAD_SIGNATURE", "NO_SUCH_CLIENT", "MISSING_PARAMETER", "OPERATION_NOT_ALLOWED"]
)
def test_configuration_errors_are_not_the_users_fault(status: str) -> None:
    answer = _answer(status=status, otp="<absent>", nonce="<absent>")
    assert check_response(answer, otp=OTP, nonce=NONCE, key=KEY) is Verdict.MISCONFIGURED


@pytest.mark.parametrize(
    "answer",
    [
        _answer(key=base64.b64encode(b"forged").decode()),
        _answer(key=None),
        _answer(otp=make_otp()),
        _answer(nonce="zzzzzzzzzzzzzzzzzzzzzzzzz"),
        _answer(otp="<absent>"),
        _answer(nonce="<absent>"),
        _answer(status="<absent>"),
        _answer() + "status=OK\r\n",
        "",
        "<html>proxy error</html>",
    ],
    ids=[
        "forged",
        "unsigned",
        "otp",
        "nonce",
        "no-otp",
        "no-nonce",
        "no-status",
        "twice",
        "empty",
        "html",
    ],
)
def test_tampered_or_incomplete_answers_are_rejected(answer: str) -> None:
    assert check_response(answer, otp=OTP, nonce=NONCE, key=KEY) is Verdict.REJECTED


def test_without_a_key_the_echo_is_still_required() -> None:
    assert check_response(_answer(key=None), otp=OTP, nonce=NONCE, key=None) is Verdict.OK
    bad = _answer(key=None, nonce="zzzzzzzzzzzzzzzzzzzzzzzzz")
    assert check_response(bad, otp=OTP, nonce=NONCE, key=None) is Verdict.REJECTED


def test_signature_with_url_encoded_plus_is_accepted() -> None:
    answer = _answer()
    signature = answer.split("\r\n", 1)[0].removeprefix("h=")
    encoded = answer.replace(signature, signature.replace("+", "%2B"), 1)
    assert check_response(encoded, otp=OTP, nonce=NONCE, key=KEY) is Verdict.OK


def test_log_redaction_hides_otps(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    caplog.set_level(logging.DEBUG)
    logging.getLogger("yubico.client").error("Failed: GET /verify?id=1&otp=%s&nonce=x", OTP)
    logging.getLogger("urllib3.connectionpool").debug('"GET /verify?id=1&otp=%s HTTP/1.1" 200', OTP)
    assert OTP not in caplog.text
    assert caplog.text.count("otp=[redacted]") == 2

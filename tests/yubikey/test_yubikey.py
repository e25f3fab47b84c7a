"""The YubiKey method against a protocol 2.0 validation server on loopback.

The real yubico-client sends every request; the fake server in conftest.py
checks signatures and answers. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.support.yubikey import (
    API_KEY,
    CLIENT_ID,
    KEY,
    SERVICE_FAILURES,
    SIGNED_REJECTIONS,
    UNTRUSTWORTHY_ANSWERS,
    FakeValidationServer,
    closed_port_url,
    login_while_server_answers,
    make_otp,
    server_sign,
    yubi_answer,
    yubi_login,
    yubi_login_status,
)
from trench_mfa.models import LoginChallenge, MFAMethod
from trench_mfa.state.secrets_at_rest import decrypt_secret

KEY_B = "ccccccdefghi"
NONCE_RE = re.compile(r"^[A-Za-z0-9]{16,40}$")


def test_activation_sends_nothing_and_confirmation_binds_the_key(
    user: Any, api_client: APIClient, yubicloud: FakeValidationServer, yubi_settings: Any
) -> None:
    response = api_client.post("/auth/yubi/activate/")
    assert response.status_code == 200
    assert "YubiKey" in response.json()["details"]
    assert yubicloud.requests == []
    otp = make_otp(KEY)
    response = api_client.post("/auth/yubi/activate/confirm/", {"code": otp})
    assert response.status_code == 200, response.content
    assert len(response.json()["backup_codes"]) == 10
    method = MFAMethod.objects.get(user=user, name="yubi")
    assert method.is_active and method.is_primary
    assert KEY not in method.secret and decrypt_secret(method.secret) == KEY
    assert len(yubicloud.requests) == 1


def test_outgoing_request_is_signed_with_a_fresh_nonce(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    otps = [make_otp(KEY), make_otp(KEY)]
    for otp in otps:
        assert yubi_login_status(anon_client, yubi_user, otp) == 200
    assert len(yubicloud.requests) == 2
    nonces = []
    for sent, otp in zip(yubicloud.requests, otps, strict=True):
        assert sent["id"] == CLIENT_ID and sent["otp"] == otp
        assert NONCE_RE.fullmatch(sent["nonce"]), sent["nonce"]
        unsigned = {k: v for k, v in sent.items() if k != "h"}
        assert sent["h"] == server_sign(unsigned)
        nonces.append(sent["nonce"])
    assert nonces[0] != nonces[1]


def test_upper_case_otp_is_lowered_before_sending(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    otp = make_otp(KEY)
    assert (
        yubi_answer(anon_client, yubi_login(anon_client, yubi_user), otp.upper()).status_code == 200
    )
    assert yubicloud.requests[0]["otp"] == otp


@pytest.mark.parametrize(
    "bad",
    [
        "a" + make_otp(KEY)[1:],  # "a" is not modhex
        make_otp(KEY)[:31][-31:],  # 31 characters
        "c" * 65,  # 65 characters
        make_otp(KEY)[:44] + "x",  # 45 with a bad character
        "CCCCCCBCGUJH" + "A" * 32,  # upper case that is not modhex either
        "123456",
        "ccccccbcgujh ccccccccccccccccccccccccccccccc",
    ],
)
def test_malformed_otp_is_refused_without_any_request_or_count(
    yubi_user: Any,
    api_client: APIClient,
    anon_client: APIClient,
    yubicloud: FakeValidationServer,
    bad: str,
) -> None:
    token = yubi_login(anon_client, yubi_user)
    response = yubi_answer(anon_client, token, bad)
    assert_error(response, 401, "invalid_code")
    response = api_client.post("/auth/yubi/deactivate/", {"code": bad})
    assert_error(response, 400, "invalid_input", "Code invalid or expired.")
    assert set(response.json()) == {"code"}
    assert yubicloud.requests == []
    assert LoginChallenge.objects.get().failed_attempts == 0
    method = MFAMethod.objects.get(name="yubi")
    assert method.is_active and method.failure_count == 0
    # Nothing was counted: the same token still logs in with a good OTP.
    assert yubi_answer(anon_client, token, make_otp(KEY)).status_code == 200


def test_malformed_otp_at_confirmation_makes_no_request(
    api_client: APIClient, yubicloud: FakeValidationServer, yubi_settings: Any
) -> None:
    api_client.post("/auth/yubi/activate/")
    response = api_client.post("/auth/yubi/activate/confirm/", {"code": "c" * 31})
    assert_error(response, 400, "invalid_input", "Code invalid or expired.")
    assert yubicloud.requests == []


def test_otp_of_another_key_fails_without_a_request(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    response = yubi_answer(anon_client, yubi_login(anon_client, yubi_user), make_otp(KEY_B))
    assert_error(response, 401, "invalid_code")
    assert yubicloud.requests == []


def test_replayed_otp_fails(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    otp = make_otp(KEY)
    assert yubi_login_status(anon_client, yubi_user, otp) == 200
    response = yubi_answer(anon_client, yubi_login(anon_client, yubi_user), otp)
    assert_error(response, 401, "invalid_code")
    assert len(yubicloud.requests) == 2


@pytest.mark.parametrize("mode", [*SIGNED_REJECTIONS, *UNTRUSTWORTHY_ANSWERS])
def test_rejected_or_untrustworthy_answers_are_a_wrong_code(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer, mode: str
) -> None:
    response = login_while_server_answers(mode, anon_client, yubi_user, yubicloud)[1]
    assert_error(response, 401, "invalid_code")
    assert LoginChallenge.objects.get().failed_attempts == 1
    assert len(yubicloud.requests) == 1


def test_replayed_request_from_the_server_is_a_wrong_code(
    yubi_user: Any, api_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    otp = make_otp(KEY)
    # A server that has seen this OTP with this nonce answers REPLAYED_REQUEST.
    yubicloud.mode = "status:REPLAYED_REQUEST"
    response = api_client.post("/auth/yubi/deactivate/", {"code": otp})
    assert_error(response, 400, "code_invalid_or_expired")
    assert MFAMethod.objects.get(name="yubi").is_active


@pytest.mark.parametrize("mode", SERVICE_FAILURES)
def test_service_failures_are_503_and_not_the_users_fault(
    yubi_user: Any, anon_client: APIClient, yubicloud: FakeValidationServer, mode: str
) -> None:
    token, response = login_while_server_answers(mode, anon_client, yubi_user, yubicloud)
    assert_error(response, 503, "dispatch_failed")
    assert LoginChallenge.objects.get().failed_attempts == 0
    method = MFAMethod.objects.get(name="yubi")
    assert method.failure_count == 0
    # The same login goes through once the service answers again.
    yubicloud.mode = "normal"
    yubicloud.release.set()
    assert yubi_answer(anon_client, token, make_otp(KEY)).status_code == 200


def test_connection_refused_is_503(
    yubi_user: Any, anon_client: APIClient, yubi_settings: Callable[..., Any]
) -> None:
    token = yubi_login(anon_client, yubi_user)
    yubi_settings(YUBICLOUD_API_URLS=[closed_port_url()])
    response = yubi_answer(anon_client, token, make_otp(KEY))
    assert response.status_code == 503
    assert LoginChallenge.objects.get().failed_attempts == 0


@pytest.mark.parametrize(
    ("mode", "status", "error"),
    [
        ("status:BACKEND_ERROR", 503, "dispatch_failed"),  # an outage
        ("status:BAD_OTP", 400, "code_invalid_or_expired"),  # a rejection
    ],
)
def test_a_failed_confirmation_binds_nothing(
    user: Any,
    api_client: APIClient,
    yubicloud: FakeValidationServer,
    yubi_settings: Any,
    mode: str,
    status: int,
    error: str,
) -> None:
    api_client.post("/auth/yubi/activate/")
    yubicloud.mode = mode
    response = api_client.post("/auth/yubi/activate/confirm/", {"code": make_otp(KEY)})
    assert_error(response, status, error)
    method = MFAMethod.objects.get(user=user, name="yubi")
    assert not method.is_active and method.secret == ""


def test_deactivate_with_an_otp_of_the_bound_key(
    yubi_user: Any, api_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    response = api_client.post("/auth/yubi/deactivate/", {"code": make_otp(KEY_B)})
    assert_error(response, 400, "code_invalid_or_expired")
    assert api_client.post("/auth/yubi/deactivate/", {"code": make_otp(KEY)}).status_code == 204
    assert not MFAMethod.objects.get(name="yubi").is_active


def test_reactivation_binds_the_new_key(
    yubi_user: Any, api_client: APIClient, anon_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    assert api_client.post("/auth/yubi/deactivate/", {"code": make_otp(KEY)}).status_code == 204
    assert api_client.post("/auth/yubi/activate/").status_code == 200
    assert MFAMethod.objects.get(name="yubi").secret == ""
    confirm = api_client.post("/auth/yubi/activate/confirm/", {"code": make_otp(KEY_B)})
    assert confirm.status_code == 200
    token = yubi_login(anon_client, yubi_user)
    assert yubi_answer(anon_client, token, make_otp(KEY)).status_code == 401
    assert yubi_answer(anon_client, token, make_otp(KEY_B)).status_code == 200


def test_second_server_answers_when_the_first_is_down(
    yubi_user: Any,
    anon_client: APIClient,
    yubicloud: FakeValidationServer,
    yubi_settings: Callable[..., Any],
    httpserver: Any,
) -> None:
    yubi_settings(YUBICLOUD_API_URLS=[closed_port_url(), httpserver.url_for("/wsapi/2.0/verify")])
    assert yubi_login_status(anon_client, yubi_user) == 200


def test_unsigned_configuration_still_checks_the_echo(
    yubi_user: Any,
    anon_client: APIClient,
    yubicloud: FakeValidationServer,
    yubi_settings: Callable[..., Any],
) -> None:
    yubi_settings(YUBICLOUD_SECRET_KEY=None)
    yubicloud.require_signature = False
    token = yubi_login(anon_client, yubi_user)
    yubicloud.mode = "wrong_nonce"
    assert yubi_answer(anon_client, token, make_otp(KEY)).status_code == 401
    yubicloud.mode = "unsigned"
    assert yubi_answer(anon_client, token, make_otp(KEY)).status_code == 200
    assert "h" not in yubicloud.requests[-1]


def test_no_otp_reaches_the_logs(
    yubi_user: Any,
    anon_client: APIClient,
    yubicloud: FakeValidationServer,
    yubi_settings: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    otps = [make_otp(KEY) for _ in range(3)]
    token = yubi_login(anon_client, yubi_user)
    yubicloud.mode = "status:BACKEND_ERROR"
    yubi_answer(anon_client, token, otps[0])
    yubi_settings(YUBICLOUD_API_URLS=[closed_port_url()])
    yubi_answer(anon_client, token, otps[1])
    yubi_settings()
    yubicloud.mode = "normal"
    assert yubi_answer(anon_client, token, otps[2]).status_code == 200
    # The loopback server's own access log (werkzeug) is not ours to police.
    ours = "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("werkzeug")
    )
    assert "otp=[redacted]" in ours, "expected the client's DEBUG output"
    for otp in otps:
        assert otp not in ours
    assert API_KEY not in ours


def test_code_request_answers_instructions_only(
    yubi_user: Any, api_client: APIClient, yubicloud: FakeValidationServer
) -> None:
    response = api_client.post("/auth/code/request/", {"method": "yubi"})
    assert response.status_code == 200
    assert set(response.json()) == {"details"}
    assert yubicloud.requests == []


@pytest.mark.parametrize(("configured", "used"), [(30, 10), (10, 10), (3, 3), (None, 10)])
def test_timeout_is_at_most_ten_seconds(
    user: Any, yubi_settings: Callable[..., Any], configured: Any, used: int
) -> None:
    from trench_mfa.backends.provider import get_mfa_handler

    yubi_settings(YUBICLOUD_TIMEOUT=configured)
    method = MFAMethod.objects.create(user=user, name="yubi")
    assert get_mfa_handler(method).timeout == used


def test_confirm_activation_refuses_an_unchecked_otp(user: Any, yubi_settings: Any) -> None:
    from trench_mfa.backends.provider import get_mfa_handler
    from trench_mfa.models import CodePurpose

    method = MFAMethod.objects.create(user=user, name="yubi")
    handler = get_mfa_handler(method, purpose=CodePurpose.ACTIVATION)
    with pytest.raises(ValueError, match="validated"):
        handler.confirm_activation(make_otp(KEY))
    assert MFAMethod.objects.get(pk=method.pk).secret == ""

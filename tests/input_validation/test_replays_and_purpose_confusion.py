"""Replays and purpose confusion.

Each replay fails with exactly the body of a plain wrong code (401
``invalid_code`` at login; elsewhere 400, the ``code`` field's error whose
``ErrorDetail`` code is ``code_invalid_or_expired``), so a client cannot tell
"used" from "wrong". The back-off is switched off
(``THROTTLE_FACTOR=0``) because these tests submit several failing codes in
a row; the back-off has its own tests.
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from pytest_httpserver import HTTPServer

from tests.conftest import error_of, last_code
from tests.input_validation.conftest import Scene
from tests.input_validation.endpoints import ENDPOINTS
from tests.support.app import SEEDS
from tests.support.yubikey import PATH, FakeValidationServer, make_otp, yubi_method
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode
from trench_mfa.state import codes
from trench_mfa.state.secrets_at_rest import encrypt_secret

pytestmark = pytest.mark.django_db

WRONG_AT_LOGIN = b'{"error":"Invalid or expired code.","error_code":"invalid_code"}'
WRONG_ELSEWHERE = b'{"code":["Code invalid or expired."]}'
LOGIN_CODE = next(e for e in ENDPOINTS if e.name == "jwt-login-code")


def assert_wrong_elsewhere(response: Any) -> None:
    """A protected action's answer to a wrong code: nothing tells a replay from it."""
    assert response.content == WRONG_ELSEWHERE
    assert error_of(response) == ("code_invalid_or_expired", "Code invalid or expired.")


@pytest.fixture(autouse=True)
def _no_backoff(trench_auth: Callable[..., Any]) -> None:
    trench_auth(THROTTLE_FACTOR=0)


def step2(scene: Scene, token: str, code: str, method: str | None = None) -> Any:
    """Login step 2 (JWT flavour)."""
    body = {"ephemeral_token": token, "code": code}
    if method:
        body["method"] = method
    return scene.post(LOGIN_CODE, body)


def test_same_totp_code_twice_and_the_previous_step_after_it(scene: Scene) -> None:
    MFAMethod.objects.create(
        user=scene.user, name="app", is_active=True, secret=encrypt_secret(SEEDS["SHA1"])
    )
    totp = pyotp.TOTP(SEEDS["SHA1"])
    t0 = 1_800_000_015  # inside step T; T-1 is still inside the ±1 window
    with time_machine.travel(t0, tick=False):
        now, previous = totp.at(t0), totp.at(t0 - 30)
        assert step2(scene, scene.login(), now, "app").status_code == 200
        for code in (now, previous):
            response = step2(scene, scene.login(), code, "app")
            assert response.content == WRONG_AT_LOGIN
        step = MFAMethod.objects.get(name="app").last_used_step
        assert step == t0 // 30


def test_same_email_code_twice(scene: Scene) -> None:
    assert step2(scene, scene.token, scene.login_code).status_code == 200
    response = step2(scene, scene.login(), scene.login_code)
    assert response.content == WRONG_AT_LOGIN
    # A protected action's code is single use as well.
    body = {"code": scene.action_code}
    assert scene.client.post("/auth/email/codes/regenerate/", body).status_code == 200
    assert_wrong_elsewhere(scene.client.post("/auth/email/codes/regenerate/", body))


def test_same_backup_code_twice(scene: Scene) -> None:
    backup = scene.backup_codes[0]
    assert step2(scene, scene.token, backup).status_code == 200
    assert step2(scene, scene.login(), backup).content == WRONG_AT_LOGIN
    response = scene.client.post("/auth/email/codes/regenerate/", {"code": backup})
    assert_wrong_elsewhere(response)


def test_an_old_code_after_a_resend(scene: Scene, time_machine: Any) -> None:
    time_machine.move_to(timezone.now() + timedelta(seconds=61), tick=False)
    mail.outbox.clear()
    response = scene.post(
        next(e for e in ENDPOINTS if e.name == "jwt-login-code-request"),
        {"ephemeral_token": scene.token},
    )
    assert response.status_code == 200, response.content
    new = last_code()
    if new != scene.login_code:
        assert step2(scene, scene.token, scene.login_code).content == WRONG_AT_LOGIN
    assert step2(scene, scene.token, new).status_code == 200


def test_activation_code_at_login_and_login_code_at_activation(scene: Scene) -> None:
    email = MFAMethod.objects.get(user=scene.user, name="email")
    # A code of another purpose of the same method fails at login ...
    activation = codes.issue_code(email, CodePurpose.ACTIVATION, validity=300)
    for code in (activation, scene.action_code):
        if code != scene.login_code:
            assert step2(scene, scene.token, code).content == WRONG_AT_LOGIN
    # ... and a login or action code never confirms an activation.
    for code in (scene.login_code, scene.action_code):
        if code != scene.confirm_code:
            response = scene.client.post("/auth/email2/activate/confirm/", {"code": code})
            assert_wrong_elsewhere(response)
    assert not MFAMethod.objects.get(name="email2").is_active
    # The right codes were not burned by the confusion.
    response = scene.client.post("/auth/email2/activate/confirm/", {"code": scene.confirm_code})
    assert response.status_code == 200, response.content
    assert step2(scene, scene.token, scene.login_code).status_code == 200


def test_a_code_of_method_a_sent_to_method_b(scene: Scene) -> None:
    # Pinned: step 2 checks only the method it names. A's code named as B's
    # fails and burns nothing of A; a right code of A never counts
    # against B. Whether the wrong answer counts against B is the back-off's
    # rule (tests/throttling), not asserted here.
    MFAMethod.objects.filter(name="email2").update(is_active=True, activation_started_at=None)
    email2 = MFAMethod.objects.get(name="email2")
    assert step2(scene, scene.token, scene.login_code, "email2").content == WRONG_AT_LOGIN
    live = OneTimeCode.objects.get(purpose=CodePurpose.LOGIN, consumed_at__isnull=True)
    assert live.attempts == 0
    failures = (email2.failure_count, list(email2.codes.values_list("attempts", flat=True)))
    assert step2(scene, scene.token, scene.login_code, "email").status_code == 200
    email2.refresh_from_db()
    assert (email2.failure_count, list(email2.codes.values_list("attempts", flat=True))) == (
        failures
    )


def test_yubikey_replayed_otp_and_replayed_request(
    scene: Scene,
    httpserver: HTTPServer,
    trench_auth: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = FakeValidationServer()
    httpserver.expect_request(PATH).respond_with_handler(server.handle)
    trench_auth(
        methods={"yubi": yubi_method(httpserver.url_for(PATH))},
        THROTTLE_FACTOR=0,
    )
    key = "ccccccbcgujh"
    # Alice has MFA: her action code confirms adding the key.
    activation = scene.client.post("/auth/yubi/activate/", {"code": scene.action_code})
    assert activation.status_code == 200, activation.content
    response = scene.client.post("/auth/yubi/activate/confirm/", {"code": make_otp(key)})
    assert response.status_code == 200, response.content
    otp = make_otp(key)
    assert step2(scene, scene.login(), otp, "yubi").status_code == 200
    assert step2(scene, scene.login(), otp, "yubi").content == WRONG_AT_LOGIN  # REPLAYED_OTP
    # The same OTP with the same nonce: the server answers REPLAYED_REQUEST.
    import yubico_client.yubico as yubico_module

    fixed = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    fixed.urandom = lambda n: b"\x01" * n  # yubico-client's nonce source only
    monkeypatch.setattr(yubico_module, "os", fixed)
    otp = make_otp(key)
    assert step2(scene, scene.login(), otp, "yubi").status_code == 200
    assert step2(scene, scene.login(), otp, "yubi").content == WRONG_AT_LOGIN
    first, second = server.requests[-2:]
    assert (first["otp"], first["nonce"]) == (second["otp"], second["nonce"])
    assert server.status_for(second) == "REPLAYED_REQUEST"

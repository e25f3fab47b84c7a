"""Every verification attempt and lockout leaves a log line; user input cannot forge one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import last_code
from tests.support.throttling import answer, login
from trench_mfa import signals
from trench_mfa.models import MFAMethod
from trench_mfa.state import audit

pytestmark = pytest.mark.django_db


def test_every_verification_attempt_and_lockout_is_logged(
    email_user: Any,
    anon_client: APIClient,
    trench_auth: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=2)
    user, _ = email_user
    with caplog.at_level(logging.INFO, logger="trench_mfa.state.audit"):
        token = login(anon_client, user)
        code = last_code()
        answer(anon_client, token, "000000")
        MFAMethod.objects.filter(user=user).update(failure_count=0)
        assert answer(anon_client, token, code).status_code == 200
        token = login(anon_client, user)
        answer(anon_client, token, "000000")
        answer(anon_client, token, "000001")  # locks
        answer(anon_client, token, "000002")  # refused
    lines = [r.getMessage() for r in caplog.records if r.name == "trench_mfa.state.audit"]
    prefix = f"user {user.pk}, method 'email', purpose login, outcome"
    assert lines == [
        f"MFA code_sent: {prefix} success, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} invalid_code, ip 127.0.0.1",
        f"MFA code_verified: {prefix} success, ip 127.0.0.1",
        f"MFA code_sent: {prefix} success, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} invalid_code, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} invalid_code, ip 127.0.0.1",
        f"MFA locked_out: {prefix} locked, ip 127.0.0.1",
        f"MFA verification_failed: {prefix} locked, ip 127.0.0.1",
    ]
    assert code not in caplog.text
    failed = [r for r in caplog.records if "verification_failed" in r.getMessage()]
    assert all(r.levelno == logging.WARNING for r in failed)


def test_user_supplied_values_cannot_forge_log_lines(
    user: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="trench_mfa.state.audit"):
        audit.send(signals.code_verified, "tests", user=user, method="x\r\nMFA code_verified: u 1")
    [record] = [r for r in caplog.records if r.name == "trench_mfa.state.audit"]
    assert "\n" not in record.getMessage() and "\r" not in record.getMessage()

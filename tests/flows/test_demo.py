"""The README walk-throughs, against the settings ``make run`` serves (settings_flows)."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from testproject import settings_flows
from tests.conftest import last_code

pytestmark = [
    pytest.mark.skipif(
        settings.AUTH_USER_MODEL != "accounts.User",
        reason="the demo (create_demo_user, djoser's sign-up body) uses testproject's user",
    ),
]

LINK = re.compile(r"http://127\.0\.0\.1:8000(/auth/verification/email/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _demo_settings(settings: Any) -> None:
    settings.TRENCH_AUTH = {**settings_flows.TRENCH_AUTH, "THROTTLE_FACTOR": 0}


def test_sign_up_verify_by_link_and_log_in_without_password(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    client = APIClient()
    body = {"username": "carol", "email": "carol@example.com", "password": "a-long-demo-passphrase"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/auth/users/", body)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "email": "carol@example.com",
        "username": "carol",
        "id": response.json()["id"],
    }
    (message,) = mail.outbox
    assert message.to == ["carol@example.com"]
    match = LINK.search(message.body)
    assert match, message.body
    # Not confirmed yet: a passwordless login is a decoy and sends nothing.
    login = client.post("/auth/token/login/", {"email": "carol@example.com"})
    assert login.status_code == 200 and len(mail.outbox) == 1

    confirmed = client.post(urlsplit(match.group(0)).path)
    assert confirmed.json() == {"details": "Address confirmed."}

    login = client.post("/auth/token/login/", {"email": "carol@example.com"})
    assert login.status_code == 200, login.content
    assert login.json() == {
        "ephemeral_token": login.json()["ephemeral_token"],
        "method": "email",
        "other_methods": [],
        "factors_remaining": [],
    }
    assert len(mail.outbox) == 2
    tokens = client.post(
        "/auth/token/login/code/",
        {"ephemeral_token": login.json()["ephemeral_token"], "code": last_code()},
    )
    assert tokens.status_code == 200, tokens.content
    assert set(tokens.json()) == {"auth_token"}


def test_creating_the_demo_user_sends_no_verification_code(
    transactional_db: None, caplog: pytest.LogCaptureFixture
) -> None:
    # Real commits, as under make run: on-commit sends really go out.
    with caplog.at_level("WARNING", logger="trench_mfa.console"):
        call_command("create_demo_user", stdout=StringIO())
        call_command("create_demo_user", "--reset", stdout=StringIO())
    assert mail.outbox == []
    assert [r for r in caplog.records if r.name == "trench_mfa.console"] == []


def test_username_walk_through_answers_as_before(db: None) -> None:
    call_command("create_demo_user", stdout=StringIO())
    assert mail.outbox == []  # the demo user's address is confirmed, nothing to verify
    client = APIClient()
    credentials = {"username": "demo", "password": "demo-pass-2026"}
    token = client.post("/auth/token/login/", credentials).json()["auth_token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/auth/email/activate/").json() == {
        "details": "Email message with MFA code has been sent."
    }
    confirm = client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert len(confirm.json()["backup_codes"]) == 10
    anon = APIClient()
    step1 = anon.post("/auth/token/login/", credentials).json()
    assert set(step1) == {"ephemeral_token", "method", "other_methods", "factors_remaining"}
    assert (step1["method"], step1["other_methods"], step1["factors_remaining"]) == (
        "email",
        [],
        [],
    )
    step2 = anon.post(
        "/auth/token/login/code/",
        {"ephemeral_token": step1["ephemeral_token"], "code": last_code()},
    )
    assert set(step2.json()) == {"auth_token"}


def test_demo_phone_flow_with_the_hardcode(db: None, caplog: pytest.LogCaptureFixture) -> None:
    call_command("create_demo_user", stdout=StringIO())
    with caplog.at_level("WARNING", logger="trench_mfa.console"):
        step1 = APIClient().post(
            "/auth/token/login/", {"phone_number": "+48600100200", "hardcode": "2468"}
        )
    assert step1.status_code == 200, step1.content
    assert step1.json()["method"] == "sms"
    (record,) = [r for r in caplog.records if r.name == "trench_mfa.console"]
    code = re.search(r"\b([0-9]{6})\b", record.getMessage())
    assert code
    step2 = APIClient().post(
        "/auth/token/login/code/",
        {"ephemeral_token": step1.json()["ephemeral_token"], "code": code.group(1)},
    )
    assert set(step2.json()) == {"auth_token"}

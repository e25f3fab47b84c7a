"""The email method through Django's real SMTP backend and an SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, FLAVOURS, Flavour, assert_error, credentials
from tests.support.smtp import Mailbox, free_port, use_smtp
from trench_mfa.models import MFAMethod, OneTimeCode

pytestmark = pytest.mark.django_db


def test_full_login_over_smtp(
    mailbox: Mailbox, user: Any, api_client: APIClient, anon_client: APIClient, flavour: Flavour
) -> None:
    assert api_client.post("/auth/email/activate/").status_code == 200
    assert mailbox.recipients == ["alice@example.com"]
    assert mailbox.messages[-1]["Subject"] == "Your verification code"
    response = api_client.post("/auth/email/activate/confirm/", {"code": mailbox.last_code()})
    assert response.status_code == 200

    step1 = anon_client.post(flavour.login, credentials(user))
    assert step1.status_code == 200 and step1.json()["method"] == "email"
    assert len(mailbox.messages) == 2
    step2 = anon_client.post(
        flavour.code,
        {"ephemeral_token": step1.json()["ephemeral_token"], "code": mailbox.last_code()},
    )
    assert step2.status_code == 200 and set(step2.json()) == flavour.token_keys


@pytest.mark.parametrize("refuse", ["rcpt", "data"])
def test_smtp_refusal_at_activation_is_503_and_leaves_no_usable_code(
    mailbox: Mailbox, issued: list[str], user: Any, api_client: APIClient, refuse: str
) -> None:
    mailbox.refuse = refuse
    assert_error(api_client.post("/auth/email/activate/"), 503, "dispatch_failed")
    assert mailbox.messages == [] and len(issued) == 1
    # A failed activation changes nothing: the pending row and its code are gone.
    assert OneTimeCode.objects.count() == 0
    assert not MFAMethod.objects.filter(user=user).exists()
    response = api_client.post("/auth/email/activate/confirm/", {"code": issued[0]})
    assert_error(response, 400, "mfa_method_does_not_exist")
    # The server recovers: a retry right away is sent and works (no cooldown
    # is charged for a code that was never delivered).
    mailbox.refuse = None
    assert api_client.post("/auth/email/activate/").status_code == 200
    response = api_client.post("/auth/email/activate/confirm/", {"code": mailbox.last_code()})
    assert response.status_code == 200


@pytest.mark.parametrize("refuse", ["rcpt", "data"])
def test_smtp_refusal_at_login_is_503_and_leaves_no_usable_code(
    email_mfa_user: tuple[Any, list[str]],  # set up first, through the locmem backend
    mailbox: Mailbox,
    issued: list[str],
    anon_client: APIClient,
    refuse: str,
    user: Any,
) -> None:
    flavour = FLAVOURS[1]
    mailbox.refuse = refuse
    response = anon_client.post(flavour.login, credentials(user))
    assert_error(response, 503, "dispatch_failed")
    assert "ephemeral_token" not in response.json()
    # The code that was not delivered is withdrawn: no row is left to use or count.
    assert not OneTimeCode.objects.filter(purpose="login").exists()
    mailbox.refuse = None
    body = anon_client.post(flavour.login, credentials(user)).json()
    if issued[-2] != mailbox.last_code():
        response = anon_client.post(
            flavour.code, {"ephemeral_token": body["ephemeral_token"], "code": issued[-2]}
        )
        assert_error(response, 401, "invalid_code")
    response = anon_client.post(
        flavour.code, {"ephemeral_token": body["ephemeral_token"], "code": mailbox.last_code()}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("where", ["activate", "login", "code_request"])
def test_closed_port_is_503(
    settings: Any,
    issued: list[str],
    email_mfa_user: tuple[Any, list[str]],
    api_client: APIClient,
    anon_client: APIClient,
    trench_auth: Callable[..., Any],
    where: str,
    user: Any,
) -> None:
    use_smtp(settings, free_port())
    if where == "activate":
        trench_auth(methods={"email2": EMAIL2})
        # MFA is on: a backup code confirms adding the method.
        _, backup = email_mfa_user
        response = api_client.post("/auth/email2/activate/", {"code": backup[0]})
    elif where == "login":
        response = anon_client.post(FLAVOURS[0].login, credentials(user))
    else:
        response = api_client.post("/auth/code/request/")
    assert_error(response, 503, "dispatch_failed")
    assert issued
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()

"""Fixtures of the destination-binding tests: real SMTP, provider stubs, a stolen session.

Email goes through Django's SMTP backend to the loopback server of
:mod:`tests.support.smtp` (``mailbox``: its ``recipients`` are the envelope's
RCPT TO addresses); SMS through each provider's official client to the
loopback stubs of :mod:`tests.support.sms_stubs`. No connection leaves
loopback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from tests.conftest import credentials, username_field
from tests.support.flows import sms_code
from tests.support.sms_outbox import OUTBOX
from tests.support.sms_providers import PROVIDERS, Provider
from tests.support.smtp import Mailbox
from trench_mfa.services import identifiers

#: The address alice activated the email method with.
ORIGINAL = "alice@example.com"
#: The address a stolen session writes into her profile.
ATTACKERS = "mallory@evil.example"
#: The number a stolen session writes into her profile.
ATTACKERS_PHONE = "+48600999000"


@pytest.fixture(autouse=True)
def _loopback(loopback_only: None) -> None:
    """No connection beyond loopback (SMTP server and provider stubs live there)."""


def activate_email(client: APIClient, mailbox: Mailbox) -> list[str]:
    """Activate and confirm the email method over SMTP; return the backup codes."""
    assert client.post("/auth/email/activate/").status_code == 200
    response = client.post("/auth/email/activate/confirm/", {"code": mailbox.last_code()})
    assert response.status_code == 200, response.content
    return response.json()["backup_codes"]  # type: ignore[no-any-return]


def token_session(user: Any, code_of_step_1: Callable[[], str]) -> APIClient:
    """A client holding ``user``'s DRF auth token from a full login: the stolen session.

    ``code_of_step_1`` reads the login code that step 1 sent.
    """
    anon = APIClient()
    step1 = anon.post("/auth/token/login/", credentials(user))
    assert step1.status_code == 200, step1.content
    step2 = anon.post(
        "/auth/token/login/code/",
        {"ephemeral_token": step1.json()["ephemeral_token"], "code": code_of_step_1()},
    )
    assert step2.status_code == 200, step2.content
    session = APIClient()
    session.credentials(HTTP_AUTHORIZATION=f"Token {step2.json()['auth_token']}")
    return session


#: How a stolen session rewrites the address: djoser's profile endpoint, or
#: any code path that saves the user.
EMAIL_CHANGES = ("djoser PATCH users/me/", "user.save()")


def change_email(how: str, session: APIClient, user: Any, address: str) -> Any:
    """Write ``address`` into ``user``'s profile the way ``how`` names; the user reloaded."""
    if how == EMAIL_CHANGES[0]:
        if username_field() == "email":
            pytest.skip("djoser keeps the login field (email here) read-only")
        response = session.patch("/auth/users/me/", {"email": address})
        assert response.status_code == 200, response.content
    else:
        fresh = get_user_model().objects.get(pk=user.pk)
        fresh.email = address
        fresh.save()
    changed = get_user_model().objects.get(pk=user.pk)
    assert changed.email == address
    return changed


@pytest.fixture
def address_changed_under_identifiers(
    flows_config: Callable[..., Any],
    user: Any,
    api_client: APIClient,
    client_for: Callable[[Any], APIClient],
    mailbox: Mailbox,
) -> Callable[..., tuple[Any, APIClient]]:
    """``change(address, **flows)``: the email method bound to a confirmed address, then moved.

    Under ``IDENTIFIERS`` (``flows_config(**flows)``), alice's address is
    confirmed and her email method activated on it; then ``address`` is
    written into her profile by ``user.save()``. Returns her reloaded user
    and a client logged in as her.
    """

    def change(address: str, **flows: Any) -> tuple[Any, APIClient]:
        flows_config(**flows)
        identifiers.mark_confirmed(user, "email")
        activate_email(api_client, mailbox)
        changed = change_email(EMAIL_CHANGES[1], api_client, user, address)
        return changed, client_for(changed)

    return change


@pytest.fixture(params=PROVIDERS, ids=repr)
def provider(request: pytest.FixtureRequest) -> Provider:
    """Each SMS provider (Twilio, SMSAPI, AWS SNS, Vonage) in turn."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def provider_stub(
    provider: Provider, request: pytest.FixtureRequest, trench_auth: Callable[..., Any]
) -> HTTPServer:
    """``provider`` configured as a method of its name, its stub answering with success."""
    server: HTTPServer = request.getfixturevalue("tls_stub" if provider.tls else "stub")
    trench_auth(methods={provider.name: provider.settings(server.url_for("/").rstrip("/"))})
    provider.expect(server)
    return server


@pytest.fixture
def sms_primary(trench_auth: Callable[..., Any], user: Any, api_client: APIClient) -> str:
    """SMS (to the outbox) activated through ``api_client`` as the user's primary; the number.

    The tests that move a factor start from a user whose SMS method already
    works, so its codes (and the outbox) are part of what they check.
    """
    trench_auth(methods={"sms": OUTBOX})
    phone: str = user.phone_number
    assert api_client.post("/auth/sms/activate/").status_code == 200
    confirmed = api_client.post("/auth/sms/activate/confirm/", {"code": sms_code(phone)})
    assert confirmed.status_code == 200, confirmed.content
    return phone

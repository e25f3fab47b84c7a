"""A stolen session that rewrites the phone number does not get an SMS factor's codes.

For each provider (Twilio, SMSAPI, AWS SNS, Vonage), through its official
client and a loopback stub of its API: after the number in the profile
changed, login step 1, its resend and ``code/request/`` all text the number
the activation confirmed. The stub's request log shows where each went.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from pytest_httpserver import HTTPServer
from rest_framework.test import APIClient

from tests.conftest import credentials
from tests.destination_binding.conftest import ATTACKERS_PHONE
from tests.support.sms_providers import PHONE, Provider

pytestmark = pytest.mark.django_db


def test_every_code_goes_to_the_activated_number_after_a_profile_edit(
    provider: Provider,
    provider_stub: HTTPServer,
    trench_auth: Callable[..., Any],
    user: Any,
    api_client: APIClient,
) -> None:
    # No resend cooldown: a frozen clock would make the HTTPS stub's
    # certificate look expired to OpenSSL, which reads the real time.
    trench_auth(RESEND_COOLDOWN=0)
    name = provider.name
    assert api_client.post(f"/auth/{name}/activate/").status_code == 200
    activation = provider_stub.log[-1][0]
    assert provider.recipient(activation) == PHONE
    confirm = api_client.post(
        f"/auth/{name}/activate/confirm/", {"code": provider.code(activation)}
    )
    assert confirm.status_code == 200, confirm.content
    changed = get_user_model().objects.get(pk=user.pk)
    changed.phone_number = ATTACKERS_PHONE
    changed.save()
    session = APIClient()
    session.force_authenticate(changed)
    sent_before = len(provider_stub.log)

    anon = APIClient()
    step1 = anon.post("/auth/jwt/login/", credentials(user))
    assert step1.status_code == 200 and step1.json()["method"] == name
    token = step1.json()["ephemeral_token"]
    resend = anon.post("/auth/jwt/login/code/request/", {"ephemeral_token": token})
    assert resend.status_code == 200, resend.content
    login_code = provider.code(provider_stub.log[-1][0])
    assert session.post("/auth/code/request/").status_code == 200
    action_code = provider.code(provider_stub.log[-1][0])

    texted = [provider.recipient(request) for request, _ in provider_stub.log[sent_before:]]
    assert texted == [PHONE, PHONE, PHONE]
    step2 = anon.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": login_code})
    assert step2.status_code == 200, step2.content
    deactivated = session.post(f"/auth/{name}/deactivate/", {"code": action_code})
    assert deactivated.status_code == 204, deactivated.content
    assert ATTACKERS_PHONE not in {provider.recipient(r) for r, _ in provider_stub.log}

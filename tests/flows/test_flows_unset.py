"""Without ``FLOWS`` the login is django-trench's, even with ``IDENTIFIERS`` set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import Flavour, activate, assert_error, credentials, last_code, username_field
from tests.support import sms_outbox as outbox
from tests.support.flows import PHONE
from trench_mfa.models import LoginChallenge
from trench_mfa.services import hardcode, identifiers


@pytest.fixture(autouse=True)
def _no_flows(flows_config: Callable[..., Any]) -> None:
    flows_config(flows=None)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "alice@example.com"},
        {"phone_number": PHONE, "hardcode": "2468"},
        {"email": "alice@example.com", "password": "x", "hardcode": "2468"},
    ],
)
def test_flow_bodies_are_field_errors(flavour: Flavour, user: Any, body: dict[str, Any]) -> None:
    hardcode.store_hardcode(user, "2468")
    identifiers.mark_confirmed(user, "email")
    identifiers.mark_confirmed(user, "phone_number")
    response = APIClient().post(flavour.login, body)
    # Field errors (or, on an email-only user model, a wrong password).
    assert response.status_code == 400
    assert set(response.json()) & {username_field(), "password", "error_code"}
    assert not LoginChallenge.objects.exists()
    assert mail.outbox == [] and outbox.sent == []


def test_password_login_needs_no_confirmed_identifier(flavour: Flavour, user: Any) -> None:
    # IDENTIFIERS guards flows and MFA targets, not django-trench's login.
    assert not identifiers.is_confirmed(user, "email")
    response = APIClient().post(flavour.login, credentials(user))
    assert set(response.json()) == flavour.token_keys


def test_mfa_login_is_django_trenchs_two_steps(
    flavour: Flavour, user: Any, api_client: APIClient
) -> None:
    identifiers.mark_confirmed(user, "email")
    activate(api_client, "email")
    mail.outbox.clear()
    step1 = APIClient().post(flavour.login, credentials(user)).json()
    assert step1 == {
        "ephemeral_token": step1["ephemeral_token"],
        "method": "email",
        "other_methods": [],
        "factors_remaining": [],
    }
    # The same pipeline as any flow: django-trench's login is the default flow.
    challenge = LoginChallenge.objects.get()
    assert challenge.factors == [{"kind": "mfa", "method": "email"}]
    assert challenge.flow == f"{get_user_model().USERNAME_FIELD}+password"
    body = {"ephemeral_token": step1["ephemeral_token"], "code": last_code()}
    response = APIClient().post(flavour.code, body)
    assert set(response.json()) == flavour.token_keys
    assert_error(APIClient().post(flavour.code, body), 401, "invalid_token")

"""``REQUIRE_MFA_FOR``: a user who must have MFA and has none gets an enrolment token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, Flavour, credentials, last_code

pytestmark = pytest.mark.django_db

JWT = FLAVOURS[0]


def must_enrol(user: Any) -> bool:
    """A policy callable: users whose username starts with "ops"."""
    return str(user.get_username()).startswith("ops")


@pytest.fixture
def staff(user_factory: Callable[..., Any]) -> Any:
    """A staff user without MFA."""
    return user_factory(username="ops-staff", is_staff=True)


def enrolment_token(user: Any, flavour: Flavour = JWT) -> str:
    """Login step 1 of ``user``; the enrolment token it answered."""
    response = APIClient().post(flavour.login, credentials(user))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"enrolment_token", "methods"}, body
    return str(body["enrolment_token"])


@pytest.fixture
def staff_token(staff: Any, trench_auth: Callable[..., dict[str, Any]]) -> str:
    """``REQUIRE_MFA_FOR = "staff"``, and the enrolment token ``staff``'s login answered."""
    trench_auth(REQUIRE_MFA_FOR="staff")
    return enrolment_token(staff)


def enrolled_client(token: str) -> APIClient:
    """A client presenting the enrolment token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"MFA-Enrolment {token}")
    return client


@pytest.mark.parametrize(
    "policy", ["staff", ["superusers", "staff"], must_enrol, f"{__name__}.must_enrol"]
)
def test_a_user_the_policy_names_gets_an_enrolment_token_not_tokens(
    staff: Any, trench_auth: Callable[..., dict[str, Any]], flavour: Flavour, policy: Any
) -> None:
    trench_auth(REQUIRE_MFA_FOR=policy)
    response = APIClient().post(flavour.login, credentials(staff))
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"enrolment_token", "methods"}
    assert body["methods"] == ["email", "app", "sms"]
    assert not flavour.token_keys & set(body)


def test_others_get_tokens_as_before(user: Any, trench_auth: Callable[..., dict[str, Any]]) -> None:
    trench_auth(REQUIRE_MFA_FOR=["staff", "superusers"])
    assert set(APIClient().post(JWT.login, credentials(user)).json()) == {"refresh", "access"}


def test_the_enrolment_token_activates_a_method_and_then_mfa_applies(
    staff: Any, staff_token: str
) -> None:
    client = enrolled_client(staff_token)
    assert client.post("/auth/email/activate/").status_code == 200
    response = client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200, response.content
    assert len(response.json()["backup_codes"]) == 10
    mail.outbox.clear()
    # The next login is a normal MFA login.
    assert "ephemeral_token" in APIClient().post(JWT.login, credentials(staff)).json()


@pytest.mark.parametrize(
    ("verb", "path"),
    [
        ("get", "/auth/mfa/user-active-methods/"),
        ("get", "/auth/devices/"),
        ("post", "/auth/code/request/"),
        ("post", "/auth/email/codes/regenerate/"),
        ("post", "/auth/token/logout/"),
        ("get", "/auth/users/me/"),
    ],
)
def test_the_enrolment_token_opens_nothing_else(staff_token: str, verb: str, path: str) -> None:
    client = enrolled_client(staff_token)
    assert getattr(client, verb)(path).status_code == 401


def test_a_tampered_or_expired_enrolment_token_is_refused(
    staff: Any, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    trench_auth(REQUIRE_MFA_FOR="staff", EPHEMERAL_TOKEN_VALIDITY=600)
    token = enrolment_token(staff)
    assert enrolled_client(token[:-2] + "xx").post("/auth/email/activate/").status_code == 401
    assert enrolled_client("x" * 600).post("/auth/email/activate/").status_code == 401
    with time_machine.travel(timezone.now() + timedelta(seconds=601), tick=False):
        assert enrolled_client(token).post("/auth/email/activate/").status_code == 401


def test_a_password_change_voids_the_enrolment_token(staff: Any, staff_token: str) -> None:
    staff.set_password("a-new-password-for-ops")
    staff.save()
    assert enrolled_client(staff_token).post("/auth/email/activate/").status_code == 401


def test_an_inactive_user_can_not_use_the_token(staff: Any, staff_token: str) -> None:
    type(staff).objects.filter(pk=staff.pk).update(is_active=False)
    assert enrolled_client(staff_token).post("/auth/email/activate/").status_code == 401

"""The MFA admin site: every admin page needs the staff user's MFA first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import activate, last_code
from trench_mfa.models import CodePurpose, EventType, MFAEvent, MFAMethod

pytestmark = pytest.mark.django_db

SITE = "/mfa-admin/"
VERIFY = "/mfa-admin/mfa/verify/"
SETUP = "/mfa-admin/mfa/setup/"


@pytest.fixture
def root(user_factory: Callable[..., Any]) -> Any:
    """A superuser without MFA."""
    return user_factory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_with_mfa(root: Any, client_for: Callable[[Any], APIClient]) -> tuple[Any, list[str]]:
    """The superuser with the email method on; (user, backup codes)."""
    codes = activate(client_for(root))
    mail.outbox.clear()
    return root, codes


def browser(user: Any) -> Client:
    """A client that passed the admin's password login as ``user``."""
    client = Client()
    client.force_login(user)
    return client


def test_the_password_alone_leads_to_the_mfa_page(root_with_mfa: tuple[Any, list[str]]) -> None:
    client = browser(root_with_mfa[0])
    response = client.get(SITE + "trench_mfa/mfaevent/", follow=True)
    assert (
        response.redirect_chain[-1][0] == VERIFY + "?next=%2Fmfa-admin%2Ftrench_mfa%2Fmfaevent%2F"
    )
    assert b'name="code"' in response.content
    assert len(mail.outbox) == 1  # the login code of the primary method


def test_the_right_code_opens_every_page(root_with_mfa: tuple[Any, list[str]]) -> None:
    client = browser(root_with_mfa[0])
    client.get(VERIFY)
    response = client.post(VERIFY, {"code": last_code(), "next": "/mfa-admin/trench_mfa/mfaevent/"})
    assert response.status_code == 302
    assert response["Location"] == "/mfa-admin/trench_mfa/mfaevent/"
    assert client.get(SITE).status_code == 200
    assert client.get(SITE + "trench_mfa/mfaevent/").status_code == 200
    event = MFAEvent.objects.get(event=EventType.CODE_VERIFIED, purpose=CodePurpose.LOGIN)
    assert event.user_id == root_with_mfa[0].pk


def test_a_backup_code_works(root_with_mfa: tuple[Any, list[str]]) -> None:
    user, codes = root_with_mfa
    client = browser(user)
    client.get(VERIFY)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 302
    assert client.get(SITE).status_code == 200
    assert MFAEvent.objects.filter(event=EventType.BACKUP_CODE_USED).count() == 1


def test_a_wrong_code_is_refused_and_counted(root_with_mfa: tuple[Any, list[str]]) -> None:
    client = browser(root_with_mfa[0])
    client.get(VERIFY)
    response = client.post(VERIFY, {"code": "000000"})
    assert response.status_code == 200
    assert b"errornote" in response.content
    assert MFAMethod.objects.get(name="email").failure_count == 1
    assert client.get(SITE).status_code == 302
    assert MFAEvent.objects.filter(event=EventType.VERIFICATION_FAILED).count() == 1


def test_a_locked_account_is_told_to_wait(
    root_with_mfa: tuple[Any, list[str]], trench_auth: Callable[..., dict[str, Any]]
) -> None:
    trench_auth(LOCKOUT_THRESHOLD=2)
    client = browser(root_with_mfa[0])
    client.get(VERIFY)
    client.post(VERIFY, {"code": "000000"})
    client.post(VERIFY, {"code": "000001"})
    response = client.post(VERIFY, {"code": last_code()})
    assert "Too many wrong codes" in response.content.decode()
    assert client.get(SITE).status_code == 302


def test_another_user_in_the_same_browser_must_verify_again(
    root_with_mfa: tuple[Any, list[str]], user_factory: Callable[..., Any]
) -> None:
    client = browser(root_with_mfa[0])
    client.get(VERIFY)
    client.post(VERIFY, {"code": last_code()})
    other = user_factory(username="other", is_staff=True, is_superuser=True)
    activate_client = APIClient()
    activate_client.force_authenticate(other)
    activate(activate_client)
    client.force_login(other)
    assert client.get(SITE).status_code == 302


def test_a_next_url_elsewhere_is_not_followed(root_with_mfa: tuple[Any, list[str]]) -> None:
    client = browser(root_with_mfa[0])
    client.get(VERIFY)
    response = client.post(VERIFY, {"code": last_code(), "next": "https://evil.example/"})
    assert response["Location"] == SITE


def test_staff_without_mfa_are_sent_to_set_it_up(root: Any) -> None:
    client = browser(root)
    response = client.get(SITE, follow=True)
    assert response.redirect_chain[-1][0] == SETUP
    response = client.post(SETUP, {"method": "email", "start": "1"})
    assert response.status_code == 200
    response = client.post(SETUP, {"code": last_code()})
    assert response.status_code == 200
    assert len(response.context["backup_codes"]) == 10
    assert client.get(SITE).status_code == 200
    assert MFAMethod.objects.get(user=root).is_active


def test_staff_without_mfa_can_be_refused_instead(
    root: Any, trench_auth: Callable[..., dict[str, Any]]
) -> None:
    trench_auth(ADMIN_MFA_SETUP=False)
    client = browser(root)
    assert client.get(VERIFY).status_code == 403
    assert client.get(SETUP).status_code == 403
    assert client.get(SITE).status_code == 302
    assert not MFAMethod.objects.exists()


def test_people_who_are_not_staff_never_reach_the_mfa_pages(
    user: Any, api_client: APIClient
) -> None:
    activate(api_client)
    client = browser(user)
    for page in (VERIFY, SETUP):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"] == "/mfa-admin/login/"
    assert Client().get(VERIFY)["Location"] == "/mfa-admin/login/"


def test_the_plain_admin_site_is_unchanged(root_with_mfa: tuple[Any, list[str]]) -> None:
    assert browser(root_with_mfa[0]).get("/admin/").status_code == 200

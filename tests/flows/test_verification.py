"""Identifier verification: codes and links, reset on change, sign-up, refusals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import activate, assert_error, assert_field_error, last_code
from tests.support import sms_outbox as outbox
from tests.support.flows import PHONE, link_key, sms_code
from trench_mfa.models import MFAEvent, MFAMethod, OneTimeCode, VerifiedIdentifier
from trench_mfa.services import identifiers
from trench_mfa.state import identity

REQUEST = "/auth/verification/request/"


def confirm_url(field: str) -> str:
    """``POST`` URL confirming ``field`` with a code."""
    return f"/auth/verification/{field}/confirm/"


def link_url(key: str) -> str:
    """The API path of a confirmation link."""
    return f"/auth/verification/email/{key}/"


@pytest.fixture(autouse=True)
def _identifiers(flows_config: Callable[..., Any]) -> None:
    flows_config()


@pytest.fixture
def email_mfa_user(user: Any, api_client: APIClient) -> tuple[Any, list[str]]:
    """``user`` with a confirmed address and the email method active."""
    identifiers.mark_confirmed(user, "email")
    backup = activate(api_client, "email")
    mail.outbox.clear()
    return user, backup


def test_request_sends_a_code_and_a_link_and_stores_no_address(
    user: Any, api_client: APIClient
) -> None:
    response = api_client.post(REQUEST, {"field": "email"})
    assert response.status_code == 200, response.content
    assert response.json() == {"details": "Email message with MFA code has been sent."}
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "https://app.example.com/confirm/" in message.body
    assert 'href="https://app.example.com/confirm/' in message.alternatives[0][0]
    # The channel row is inactive: it is no MFA method of the user.
    row = MFAMethod.objects.get(user=user, name="email")
    assert (row.is_active, row.is_primary) == (False, False)
    assert api_client.get("/auth/mfa/user-active-methods/").json() == []
    stored = list(VerifiedIdentifier.objects.values_list(flat=False))
    assert "alice@example.com" not in repr(stored)
    assert not identifiers.is_confirmed(user, "email")


def test_confirm_by_code(user: Any, api_client: APIClient) -> None:
    api_client.post(REQUEST, {"field": "email"})
    response = api_client.post(confirm_url("email"), {"code": last_code()})
    assert response.status_code == 200, response.content
    assert response.json() == {"details": "Address confirmed."}
    assert identifiers.is_confirmed(user, "email")
    row = VerifiedIdentifier.objects.get(user=user, field="email")
    assert row.value_digest == identity.value_digest("email", "alice@example.com")
    assert "alice" not in row.value_digest
    # Confirmed: another request is refused, the code is gone.
    assert_error(api_client.post(REQUEST, {"field": "email"}), 400, "identifier_already_confirmed")
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()


def test_confirm_phone_by_sms_code(user: Any, api_client: APIClient) -> None:
    assert api_client.post(REQUEST, {"field": "phone_number"}).status_code == 200
    assert [to for to, _ in outbox.sent] == [PHONE]
    response = api_client.post(confirm_url("phone_number"), {"code": sms_code()})
    assert response.status_code == 200, response.content
    assert identifiers.is_confirmed(user, "phone_number")
    assert not identifiers.is_confirmed(user, "email")


def test_wrong_malformed_and_reused_codes(user: Any, api_client: APIClient) -> None:
    api_client.post(REQUEST, {"field": "email"})
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    assert_error(
        api_client.post(confirm_url("email"), {"code": wrong}), 400, "code_invalid_or_expired"
    )
    # Malformed: refused as input, nothing counted.
    assert_error(
        api_client.post(confirm_url("email"), {"code": "12ab"}),
        400,
        "invalid_input",
        "Code invalid or expired.",
    )
    assert MFAMethod.objects.get(user=user, name="email").failure_count == 1
    # A JSON number is read as its string: a well-formed wrong code, counted.
    number = 111111 if code != "111111" else 222222
    assert_error(
        api_client.post(confirm_url("email"), {"code": number}), 400, "code_invalid_or_expired"
    )
    assert MFAMethod.objects.get(user=user, name="email").failure_count == 2
    assert api_client.post(confirm_url("email"), {"code": code}).status_code == 200
    identifiers.reset(user, "email")
    assert_error(
        api_client.post(confirm_url("email"), {"code": code}), 400, "code_invalid_or_expired"
    )


def test_wrong_codes_count_like_every_other_code(user: Any, api_client: APIClient) -> None:
    api_client.post(REQUEST, {"field": "email"})
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        api_client.post(confirm_url("email"), {"code": wrong})
    assert MFAMethod.objects.get(user=user, name="email").failure_count == 2
    failed = MFAEvent.objects.filter(event="verification_failed", purpose="verification")
    assert failed.count() == 2 and failed.first().method == "email"
    assert api_client.post(confirm_url("email"), {"code": code}).status_code == 200
    assert MFAMethod.objects.get(user=user, name="email").failure_count == 0


def test_backup_codes_do_not_confirm_an_identifier(
    email_mfa_user: tuple[Any, list[str]], api_client: APIClient
) -> None:
    user, backup = email_mfa_user
    identifiers.reset(user, "email")
    api_client.post(REQUEST, {"field": "email"})
    response = api_client.post(confirm_url("email"), {"code": backup[0]})
    assert response.status_code == 400
    assert not identifiers.is_confirmed(user, "email")


def test_request_errors(user: Any, api_client: APIClient, anon_client: APIClient) -> None:
    assert anon_client.post(REQUEST, {"field": "email"}).status_code == 401
    assert anon_client.post(confirm_url("email"), {"code": "123456"}).status_code == 401
    assert_error(api_client.post(REQUEST, {"field": "password"}), 400, "unknown_identifier")
    assert_error(
        api_client.post(confirm_url("username"), {"code": "123456"}), 400, "unknown_identifier"
    )
    assert_field_error(api_client.post(REQUEST, {}), "field")
    assert_field_error(api_client.post(REQUEST, {"field": ["email"]}), "field")
    user.phone_number = ""
    user.save()
    assert_error(api_client.post(REQUEST, {"field": "phone_number"}), 400, "invalid_input")
    assert mail.outbox == [] and outbox.sent == []


def test_resend_cooldown_applies(user: Any, api_client: APIClient) -> None:
    assert api_client.post(REQUEST, {"field": "email"}).status_code == 200
    response = api_client.post(REQUEST, {"field": "email"})
    assert_error(response, 429, "throttled")
    assert response["Retry-After"]
    assert len(mail.outbox) == 1


def test_confirm_by_link(user: Any, api_client: APIClient, anon_client: APIClient) -> None:
    api_client.post(REQUEST, {"field": "email"})
    response = anon_client.post(link_url(link_key()))
    assert response.status_code == 200, response.content
    assert response.json() == {"details": "Address confirmed."}
    assert response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert identifiers.is_confirmed(user, "email")
    # The link also voided the code; using the link again changes nothing.
    assert not OneTimeCode.objects.filter(consumed_at__isnull=True).exists()
    assert anon_client.post(link_url(link_key())).status_code == 200


#: What a browser sends when a person opens the link from a mail program.
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_opening_the_link_confirms_nothing_until_it_is_posted(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    api_client.post(REQUEST, {"field": "email"})
    key = link_key()
    # A mail scanner or link preview GETs the link: nothing changes.
    for _ in range(2):
        response = anon_client.get(link_url(key))
        assert response.status_code == 200, response.content
        assert response.json() == {
            "details": "This link confirms an email address for an account.",
            "confirm": "POST this URL to confirm the address.",
        }
    assert not identifiers.is_confirmed(user, "email")
    assert OneTimeCode.objects.filter(consumed_at__isnull=True).count() == 1
    # The key still works, with POST.
    assert anon_client.post(link_url(key)).json() == {"details": "Address confirmed."}
    assert identifiers.is_confirmed(user, "email")


def test_a_browser_gets_a_page_whose_button_posts_to_the_link(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    api_client.post(REQUEST, {"field": "email"})
    url = link_url(link_key())
    page = anon_client.get(url, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert f'<form method="post" action="{url}">' in html
    assert '<button type="submit">Confirm this address</button>' in html
    assert not identifiers.is_confirmed(user, "email")
    # The button: a plain form POST, no CSRF token, no session.
    pressed = anon_client.post(
        url, "", content_type="application/x-www-form-urlencoded", HTTP_ACCEPT=BROWSER_ACCEPT
    )
    assert pressed.status_code == 200
    assert "Address confirmed." in pressed.content.decode()
    assert "<form" not in pressed.content.decode()
    assert identifiers.is_confirmed(user, "email")


def test_a_bad_key_is_invalid_link_on_get_and_post_alike(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    api_client.post(REQUEST, {"field": "email"})
    bad = link_url(link_key()[:-2] + "xx")
    got, posted = anon_client.get(bad), anon_client.post(bad)
    assert_error(got, 400, "invalid_link")
    assert got.json() == posted.json()
    page = anon_client.get(bad, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert page.status_code == 400
    assert "Invalid or expired link." in page.content.decode()
    assert "<form" not in page.content.decode()
    assert not identifiers.is_confirmed(user, "email")


def open_link_after(
    seconds: int, api_client: APIClient, anon_client: APIClient, time_machine: Any
) -> Any:
    """Request an email link at a fixed time; ``POST`` it ``seconds`` later."""
    time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
    api_client.post(REQUEST, {"field": "email"})
    key = link_key()
    time_machine.shift(seconds)
    return anon_client.post(link_url(key))


def test_expired_link(
    user: Any, api_client: APIClient, anon_client: APIClient, time_machine: Any
) -> None:
    response = open_link_after(86400 + 1, api_client, anon_client, time_machine)
    assert_error(response, 400, "invalid_link")
    assert not identifiers.is_confirmed(user, "email")


def test_link_at_the_edge_of_its_validity(
    user: Any, api_client: APIClient, anon_client: APIClient, time_machine: Any
) -> None:
    response = open_link_after(86400 - 1, api_client, anon_client, time_machine)
    assert response.status_code == 200
    assert identifiers.is_confirmed(user, "email")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
        lambda key: key[:10],
        lambda key: "x" * 600,
        lambda key: "é" + key,
        lambda key: key.split(":", 1)[0] + ":" + key,
    ],
)
def test_tampered_link(
    user: Any, api_client: APIClient, anon_client: APIClient, tamper: Callable[[str], str]
) -> None:
    api_client.post(REQUEST, {"field": "email"})
    response = anon_client.post(link_url(tamper(link_key())))
    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert_error(response, 400, "invalid_link")
    assert not identifiers.is_confirmed(user, "email")


def test_forged_link_for_another_user_or_field_fails(
    user_factory: Callable[..., Any], user: Any, anon_client: APIClient
) -> None:
    other = user_factory(username="mallory", email="mallory@example.com")
    # A key signed by another application (other salt) is no link of ours.
    from django.core import signing

    forged = signing.dumps([str(user.pk), "email", identity.value_digest("email", user.email)[:32]])
    assert_error(anon_client.post(link_url(forged)), 400, "invalid_link")
    # A real key of mallory confirms mallory only.
    key = identity.link_key(other, "email", other.email)
    assert anon_client.post(link_url(key)).status_code == 200
    assert identifiers.is_confirmed(other, "email")
    assert not identifiers.is_confirmed(user, "email")
    # A key for a field that is not verified is refused.
    key = identity.link_key(user, "first_name", "x")
    assert_error(anon_client.post(link_url(key)), 400, "invalid_link")


def test_link_for_an_old_value_fails(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    api_client.post(REQUEST, {"field": "email"})
    key = link_key()
    get_user_model().objects.filter(pk=user.pk).update(email="new@example.com")
    assert_error(anon_client.post(link_url(key)), 400, "invalid_link")
    user.refresh_from_db()
    assert not identifiers.is_confirmed(user, "email")


def test_code_sent_to_an_old_value_does_not_confirm_the_new_one(
    user: Any, api_client: APIClient
) -> None:
    api_client.post(REQUEST, {"field": "email"})
    code = last_code()
    # Changed without save(): no signal, the old code is still live.
    get_user_model().objects.filter(pk=user.pk).update(email="new@example.com")
    user.refresh_from_db()
    response = APIClient()
    response.force_authenticate(user)
    assert_error(
        response.post(confirm_url("email"), {"code": code}), 400, "code_invalid_or_expired"
    )
    assert not identifiers.is_confirmed(user, "email")


def test_changing_the_value_resets_and_sends_a_new_code(
    stored_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    assert identifiers.is_confirmed(stored_user, "email")
    with django_capture_on_commit_callbacks(execute=True):
        stored_user.email = "alice.new@example.com"
        stored_user.save()
    assert not identifiers.is_confirmed(stored_user, "email")
    assert identifiers.is_confirmed(stored_user, "phone_number")
    (message,) = mail.outbox
    assert message.to == ["alice.new@example.com"]
    client = APIClient()
    client.force_authenticate(stored_user)
    assert client.post(confirm_url("email"), {"code": last_code()}).status_code == 200
    assert identifiers.is_confirmed(stored_user, "email")
    # Changing back to the old address needs a new confirmation too.
    with django_capture_on_commit_callbacks(execute=True):
        stored_user.email = "alice@example.com"
        stored_user.save()
    assert not identifiers.is_confirmed(stored_user, "email")


def test_saving_without_a_change_sends_nothing(
    stored_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stored_user.first_name = "Alice"
        stored_user.email = " ALICE@example.com "  # the same address, written differently
        stored_user.save()
        stored_user.save(update_fields=["last_login"])
    assert callbacks == [] and mail.outbox == []
    assert identifiers.is_confirmed(stored_user, "email")


def test_sign_up_sends_codes_after_commit(
    user_factory: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        new = user_factory(username="bob", email="bob@example.com", phone_number=PHONE)
    # Nothing leaves before the commit: a rolled-back sign-up sends nothing.
    assert mail.outbox == [] and outbox.sent == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    assert [to for to, _ in outbox.sent] == [PHONE]
    assert not identifiers.is_confirmed(new, "email")


def test_confirmed_on_create(
    flows_config: Callable[..., Any],
    user_factory: Callable[..., Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    flows_config(
        identifiers={
            "email": {"METHOD": "email", "CONFIRMED_ON_CREATE": True},
            "phone_number": {"METHOD": "sms", "CONFIRMED_ON_CREATE": False},
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        new = user_factory(username="bob", email="bob@example.com", phone_number="")
    assert identifiers.is_confirmed(new, "email")
    assert not identifiers.is_confirmed(new, "phone_number")
    assert mail.outbox == [] and outbox.sent == []


def test_a_failed_send_does_not_break_the_save(
    user_factory: Callable[..., Any], django_capture_on_commit_callbacks: Any
) -> None:
    outbox.fail_next = 1
    with django_capture_on_commit_callbacks(execute=True):
        new = user_factory(username="bob", email="", phone_number=PHONE)
    assert new.pk is not None and outbox.sent == []


def test_unconfirmed_email_cannot_be_activated_as_mfa_method(
    user: Any, api_client: APIClient
) -> None:
    assert_error(api_client.post("/auth/email/activate/"), 400, "identifier_not_confirmed")
    assert mail.outbox == []
    assert not MFAMethod.objects.filter(
        user=user, name="email", activation_started_at__isnull=False
    ).exists()
    api_client.post(REQUEST, {"field": "email"})
    api_client.post(confirm_url("email"), {"code": last_code()})
    mail.outbox.clear()
    assert api_client.post("/auth/email/activate/").status_code == 200
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200, response.content
    assert MFAMethod.objects.get(user=user, name="email").is_active


def test_unconfirmed_phone_cannot_be_activated_as_mfa_method(
    user: Any, api_client: APIClient
) -> None:
    assert_error(api_client.post("/auth/sms/activate/"), 400, "identifier_not_confirmed")
    assert outbox.sent == []
    identifiers.mark_confirmed(user, "phone_number")
    assert api_client.post("/auth/sms/activate/").status_code == 200


def test_protected_action_codes_go_to_the_address_the_activation_confirmed(
    email_mfa_user: tuple[Any, list[str]], api_client: APIClient
) -> None:
    # The activation code proved the address; the profile's confirmation
    # state no longer decides where, or whether, the method's codes go.
    user, _ = email_mfa_user
    identifiers.reset(user, "email")
    assert api_client.post("/auth/code/request/").status_code == 200
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_a_change_sends_its_code_only_after_the_commit(
    stored_user: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        stored_user.phone_number = "+48600999000"
        stored_user.save()
    # Reset at once, sent only on commit: a rolled-back change sends nothing.
    assert not identifiers.is_confirmed(stored_user, "phone_number")
    assert outbox.sent == [] and len(callbacks) == 1
    callbacks[0]()
    assert [to for to, _ in outbox.sent] == ["+48600999000"]

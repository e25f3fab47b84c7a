"""A stolen session that rewrites the email address does not get the email factor's codes.

Alice activates the email method; someone holding only her auth token
writes another address into her profile (djoser's ``PATCH users/me/`` or
any ``user.save()``). Every code of the method still goes to the address
the activation confirmed: login step 1 and its resend, ``code/request/``,
and so the codes that ``codes/regenerate/`` and ``deactivate/`` need. The
SMTP server's envelope recipients show where each message went.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import assert_error, credentials, username_field
from tests.destination_binding.conftest import (
    ATTACKERS,
    EMAIL_CHANGES,
    ORIGINAL,
    activate_email,
    change_email,
    token_session,
)
from tests.support.smtp import Mailbox
from tests.support.throttling import shift
from trench_mfa.services import identifiers

pytestmark = pytest.mark.django_db

#: Past the resend cooldown (60 s) of the last code.
AFTER_COOLDOWN = 61


@pytest.mark.parametrize("how", EMAIL_CHANGES)
def test_every_code_goes_to_the_activated_address_after_a_profile_edit(
    clock: time_machine.Coordinates, user: Any, api_client: APIClient, mailbox: Mailbox, how: str
) -> None:
    activate_email(api_client, mailbox)
    session = token_session(user, mailbox.last_code)
    changed = change_email(how, session, user, ATTACKERS)
    sent_before = len(mailbox.recipients)

    # Login step 1 (with the password: the login may be the edited field)
    # and the resend of its code.
    anon = APIClient()
    step1 = anon.post("/auth/jwt/login/", credentials(changed))
    assert step1.status_code == 200 and step1.json()["method"] == "email"
    token = step1.json()["ephemeral_token"]
    shift(clock, AFTER_COOLDOWN)
    resend = anon.post("/auth/jwt/login/code/request/", {"ephemeral_token": token})
    assert resend.status_code == 200, resend.content
    login_code = mailbox.last_code()
    # The protected-action code the session asks for: what codes/regenerate/
    # and deactivate/ need.
    assert session.post("/auth/code/request/").status_code == 200
    action_code = mailbox.last_code()

    assert mailbox.recipients[sent_before:] == [ORIGINAL, ORIGINAL, ORIGINAL]
    # Without a code from Alice's mailbox the session can do neither.
    for path in ("/auth/email/codes/regenerate/", "/auth/email/deactivate/"):
        assert_error(session.post(path, {"code": "000000"}), 400, "code_invalid_or_expired")
    # The codes Alice received are the method's real codes.
    step2 = anon.post("/auth/jwt/login/code/", {"ephemeral_token": token, "code": login_code})
    assert step2.status_code == 200, step2.content
    regenerated = session.post("/auth/email/codes/regenerate/", {"code": action_code})
    assert regenerated.status_code == 200, regenerated.content
    shift(clock, AFTER_COOLDOWN)
    assert session.post("/auth/code/request/").status_code == 200
    deactivated = session.post("/auth/email/deactivate/", {"code": mailbox.last_code()})
    assert deactivated.status_code == 204, deactivated.content
    assert set(mailbox.recipients) == {ORIGINAL}


def test_a_new_address_the_session_confirmed_does_not_get_the_codes_either(
    clock: time_machine.Coordinates,
    address_changed_under_identifiers: Callable[..., tuple[Any, APIClient]],
    mailbox: Mailbox,
) -> None:
    # With IDENTIFIERS the new address gets a verification code, which the
    # attacker reads and confirms: still, the factor stays where it was.
    changed, session = address_changed_under_identifiers(ATTACKERS)
    assert session.post("/auth/verification/request/", {"field": "email"}).status_code == 200
    assert mailbox.recipients[-1] == ATTACKERS
    confirm = session.post("/auth/verification/email/confirm/", {"code": mailbox.last_code()})
    assert confirm.status_code == 200, confirm.content
    sent_before = len(mailbox.recipients)

    assert APIClient().post("/auth/jwt/login/", credentials(changed)).status_code == 200
    shift(clock, AFTER_COOLDOWN)
    assert session.post("/auth/code/request/").status_code == 200
    assert mailbox.recipients[sent_before:] == [ORIGINAL, ORIGINAL]


def test_a_passwordless_login_by_the_new_address_sends_its_passcode_to_the_bound_one(
    address_changed_under_identifiers: Callable[..., tuple[Any, APIClient]], mailbox: Mailbox
) -> None:
    changed, session = address_changed_under_identifiers(
        ATTACKERS, flows=[(username_field(), "password"), ("email", "passcode")]
    )
    session.post("/auth/verification/request/", {"field": "email"})
    session.post("/auth/verification/email/confirm/", {"code": mailbox.last_code()})
    assert identifiers.is_confirmed(changed, "email")
    sent_before = len(mailbox.recipients)

    # The login finds Alice by the confirmed new address; the passcode is a
    # code of her email method, which goes where the method is bound.
    step1 = APIClient().post("/auth/jwt/login/", {"email": ATTACKERS})
    assert step1.status_code == 200, step1.content
    assert mailbox.recipients[sent_before:] == [ORIGINAL]

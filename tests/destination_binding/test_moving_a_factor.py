"""Activation captures the destination; moving a factor means activating it again.

The activation code goes to the address the profile names when ``activate/``
is called, and confirming that code binds the method to it, whatever the
profile says by then. To move a factor to a new address or number, the
user deactivates it (with a code it sends to the bound destination, or a
backup code) and activates it again: with the usual code of the primary
method when MFA stays on, and, under ``IDENTIFIERS``, only to a confirmed
value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import assert_error, credentials
from tests.destination_binding.conftest import (
    ATTACKERS_PHONE,
    EMAIL_CHANGES,
    ORIGINAL,
    activate_email,
    change_email,
)
from tests.support import sms_outbox as outbox
from tests.support.flows import sms_code
from tests.support.smtp import Mailbox
from tests.support.throttling import shift

pytestmark = pytest.mark.django_db

#: Alice's own new address.
NEW = "alice.new@example.com"


def test_the_activation_code_goes_to_the_address_of_the_start_which_confirming_binds(
    user: Any, api_client: APIClient, client_for: Callable[[Any], APIClient], mailbox: Mailbox
) -> None:
    assert api_client.post("/auth/email/activate/").status_code == 200
    code = mailbox.last_code()
    changed = change_email(EMAIL_CHANGES[1], api_client, user, NEW)
    confirm = client_for(changed).post("/auth/email/activate/confirm/", {"code": code})
    assert confirm.status_code == 200, confirm.content

    assert APIClient().post("/auth/jwt/login/", credentials(changed)).status_code == 200
    assert mailbox.recipients == [ORIGINAL, ORIGINAL]


def test_moving_the_only_factor_takes_a_code_of_the_old_address_then_a_new_activation(
    clock: time_machine.Coordinates,
    user: Any,
    api_client: APIClient,
    client_for: Callable[[Any], APIClient],
    mailbox: Mailbox,
) -> None:
    activate_email(api_client, mailbox)
    changed = change_email(EMAIL_CHANGES[1], api_client, user, NEW)
    client = client_for(changed)
    # Not in place: the active method keeps its address until it is deactivated.
    assert_error(client.post("/auth/email/activate/"), 400, "method_already_active")
    assert client.post("/auth/code/request/").status_code == 200
    assert mailbox.recipients[-1] == ORIGINAL
    deactivated = client.post("/auth/email/deactivate/", {"code": mailbox.last_code()})
    assert deactivated.status_code == 204, deactivated.content

    shift(clock, 61)
    activate_email(client, mailbox)
    assert APIClient().post("/auth/jwt/login/", credentials(changed)).status_code == 200
    assert mailbox.recipients == [ORIGINAL, ORIGINAL, NEW, NEW]


def test_moving_a_factor_while_mfa_stays_on_needs_a_code_of_the_primary(
    clock: time_machine.Coordinates,
    sms_primary: str,
    user: Any,
    api_client: APIClient,
    client_for: Callable[[Any], APIClient],
    mailbox: Mailbox,
) -> None:
    phone = sms_primary
    shift(clock, 61)
    assert api_client.post("/auth/code/request/").status_code == 200  # to the SMS primary
    started = api_client.post("/auth/email/activate/", {"code": sms_code(phone)})
    assert started.status_code == 200, started.content
    api_client.post("/auth/email/activate/confirm/", {"code": mailbox.last_code()})

    client = client_for(change_email(EMAIL_CHANGES[1], api_client, user, NEW))
    assert client.post("/auth/code/request/", {"method": "email"}).status_code == 200
    assert mailbox.recipients[-1] == ORIGINAL
    assert client.post("/auth/email/deactivate/", {"code": mailbox.last_code()}).status_code == 204
    # Binding the new address is adding a factor: a code of the primary first.
    assert_error(client.post("/auth/email/activate/"), 400, "otp_code_missing")
    shift(clock, 61)
    assert client.post("/auth/code/request/").status_code == 200
    started = client.post("/auth/email/activate/", {"code": sms_code(phone)})
    assert started.status_code == 200, started.content
    assert mailbox.recipients[-1] == NEW
    confirm = client.post("/auth/email/activate/confirm/", {"code": mailbox.last_code()})
    assert confirm.status_code == 200, confirm.content
    shift(clock, 61)
    assert client.post("/auth/code/request/", {"method": "email"}).status_code == 200
    assert mailbox.recipients == [ORIGINAL, ORIGINAL, NEW, NEW]


def test_with_identifiers_the_new_address_is_confirmed_before_the_factor_moves(
    clock: time_machine.Coordinates,
    address_changed_under_identifiers: Callable[..., tuple[Any, APIClient]],
    mailbox: Mailbox,
) -> None:
    _, client = address_changed_under_identifiers(NEW)
    # The unconfirmed new address holds nothing back: the code goes to the old one.
    assert client.post("/auth/code/request/").status_code == 200
    assert mailbox.recipients[-1] == ORIGINAL
    assert client.post("/auth/email/deactivate/", {"code": mailbox.last_code()}).status_code == 204

    assert_error(client.post("/auth/email/activate/"), 400, "identifier_not_confirmed")
    assert client.post("/auth/verification/request/", {"field": "email"}).status_code == 200
    confirm = client.post("/auth/verification/email/confirm/", {"code": mailbox.last_code()})
    assert confirm.status_code == 200, confirm.content
    shift(clock, 61)
    activate_email(client, mailbox)
    # Activation and action code to the old address; verification and
    # activation codes to the new one.
    assert mailbox.recipients == [ORIGINAL, ORIGINAL, NEW, NEW]


def test_moving_an_sms_factor_to_a_new_number(
    clock: time_machine.Coordinates,
    sms_primary: str,
    user: Any,
    client_for: Callable[[Any], APIClient],
) -> None:
    from django.contrib.auth import get_user_model

    phone = sms_primary
    changed = get_user_model().objects.get(pk=user.pk)
    changed.phone_number = ATTACKERS_PHONE  # here: Alice's own new number
    changed.save()
    client = client_for(changed)
    shift(clock, 61)
    assert client.post("/auth/code/request/").status_code == 200
    assert client.post("/auth/sms/deactivate/", {"code": sms_code(phone)}).status_code == 204
    assert client.post("/auth/sms/activate/").status_code == 200
    confirm = client.post("/auth/sms/activate/confirm/", {"code": sms_code(ATTACKERS_PHONE)})
    assert confirm.status_code == 200, confirm.content
    shift(clock, 61)
    assert client.post("/auth/code/request/").status_code == 200
    assert [to for to, _ in outbox.sent] == [phone, phone, ATTACKERS_PHONE, ATTACKERS_PHONE]

"""Several accounts confirming one address at the same moment: exactly one gets it.

A squatter who signs up many accounts with the owner's address, and has the
owner's mail filter open every link at once, must not get two confirmed
holders: a login by the address would then match nobody and silently switch
the owner's passwordless login off.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail

from tests.conftest import username_field
from tests.support.flows import default_flows
from tests.support.races import post_status, race
from trench_mfa.models import VerifiedIdentifier

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADDRESS = "owner@example.com"
ACCOUNTS = 8


def test_parallel_links_for_one_address_confirm_one_account(
    flows_config: Callable[..., Any], user_factory: Callable[..., Any]
) -> None:
    if username_field() == "email":
        pytest.skip("email is the unique USERNAME_FIELD of this user model")
    flows_config(flows=default_flows())
    for n in range(ACCOUNTS):
        user_factory(username=f"squatter{n}", email=ADDRESS)
    links = [
        re.search(r"https://app\.example\.com/confirm/([^/\s]+)/", m.body) for m in mail.outbox
    ]
    keys = {link.group(1) for link in links if link}
    assert len(keys) == ACCOUNTS
    statuses = race([post_status(f"/auth/verification/email/{key}/", {}) for key in keys])
    assert Counter(statuses) == {200: 1, 400: ACCOUNTS - 1}
    assert VerifiedIdentifier.objects.filter(field="email", confirmed_at__isnull=False).count() == 1

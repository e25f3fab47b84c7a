"""Fixtures and helpers of the login-flow and identifier-verification tests.

``flows_config(flows=..., identifiers=...)`` switches ``TRENCH_AUTH`` to
multauth-style flows on top of the project's methods, with the in-memory
SMS method (:mod:`tests.support.sms_outbox`) as ``sms``. Codes are read from
``mail.outbox`` (email) and :data:`tests.support.sms_outbox.sent` (SMS).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyotp
import pytest
from django.apps import apps
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, username_field
from tests.support import sms_outbox as outbox
from tests.support.app import activate_and_confirm_app

#: The identifiers verified in most tests: email by email, phone by SMS.
IDENTIFIERS = {
    "email": {"METHOD": "email", "CONFIRMED_ON_CREATE": False},
    "phone_number": {"METHOD": "sms", "CONFIRMED_ON_CREATE": False},
}
LINK_URL = "https://app.example.com/confirm/{key}/"
PHONE = "+48600100200"


def default_flows() -> list[tuple[str, ...]]:
    """Password login by username, 2FA by email, hardcode + SMS, passwordless email."""
    return [
        (username_field(), "password"),
        ("email", "password", "passcode"),
        ("phone_number", "hardcode", "passcode"),
        ("email", "passcode"),
    ]


@pytest.fixture
def flows_config(trench_auth: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``flows_config(flows=None, identifiers=IDENTIFIERS, **overrides)``.

    ``flows=None`` keeps django-trench's login; pass a list to enable flows.
    """

    def configure(
        *,
        flows: list[tuple[str, ...]] | None = None,
        identifiers: dict[str, Any] | None = IDENTIFIERS,
        **overrides: Any,
    ) -> dict[str, Any]:
        return trench_auth(
            methods={"sms": outbox.OUTBOX},
            FLOWS=flows,
            IDENTIFIERS=identifiers,
            VERIFICATION_LINK_URL=LINK_URL,
            **overrides,
        )

    return configure


def sms_code(number: str = PHONE) -> str:
    """The code of the last SMS sent to ``number``."""
    texts = [text for to, text in outbox.sent if to == number]
    assert texts, outbox.sent
    match = re.search(r"\b([0-9]{6})\b", texts[-1])
    assert match, texts[-1]
    return match.group(1)


def link_key(message: Any = None) -> str:
    """The key of the confirmation link in the last email (or ``message``)."""
    body = (message or mail.outbox[-1]).body
    match = re.search(r"https://app\.example\.com/confirm/([^/\s]+)/", body)
    assert match, body
    return match.group(1)


def table_counts() -> dict[str, int]:
    """Row count of every table of trench_mfa and the user model."""
    from django.contrib.auth import get_user_model

    models = [*apps.get_app_config("trench_mfa").get_models(), get_user_model()]
    return {model._meta.db_table: model._default_manager.count() for model in models}


def changed_tables(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """``{table: difference}`` of the tables whose row count changed."""
    return {t: after[t] - before[t] for t in after if after[t] != before.get(t)}


@pytest.fixture
def verified_user(user: Any) -> Any:
    """``user`` (alice) with email and phone number confirmed."""
    from trench_mfa.services import identifiers

    identifiers.mark_confirmed(user, "email")
    identifiers.mark_confirmed(user, "phone_number")
    return user


@pytest.fixture
def stored_user(verified_user: Any) -> Any:
    """``verified_user`` read back from the database, as a profile edit would load it.

    A fresh instance holds none of the state the confirming left on the
    fixture's object, so a save compares against what is stored.
    """
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(pk=verified_user.pk)


def password_body(field: str, value: str, password: str = PASSWORD) -> dict[str, str]:
    """A step-1 body with an identifier and the password."""
    return {field: value, "password": password}


def anon() -> APIClient:
    """A fresh anonymous client."""
    return APIClient()


#: Three factors: the password, then a code emailed to the address, then the authenticator app.
THREE_FACTORS = ("email", "password", "passcode", "app")


@pytest.fixture
def three_factor_alice(
    flows_config: Callable[..., Any],
    verified_user: Any,
    client_for: Callable[[Any], APIClient],
    time_machine: Any,
) -> Callable[..., pyotp.TOTP]:
    """``three_factor_alice(**options)``: the flow :data:`THREE_FACTORS`, with more settings.

    Alice (``verified_user``) confirms the app at a frozen noon; the clock then
    moves a minute on, so that her next TOTP is a new step. Returns her TOTP.
    """

    def configure(**options: Any) -> pyotp.TOTP:
        flows_config(flows=[THREE_FACTORS], **options)
        time_machine.move_to("2026-01-01 12:00:00+00:00", tick=False)
        app = activate_and_confirm_app(client_for(verified_user))
        time_machine.shift(60)
        return app

    return configure

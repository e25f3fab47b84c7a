"""``FLOWS`` and ``IDENTIFIERS``: parsing, and the system checks that reject bad ones."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from tests.conftest import username_field
from tests.support.flows import IDENTIFIERS
from tests.support.sms_outbox import OUTBOX
from trench_mfa import flows

EMAIL = "trench_mfa.backends.email.EmailMessageDispatcher"


def auth(**extra: Any) -> dict[str, Any]:
    """The project's ``TRENCH_AUTH`` with the outbox SMS method and ``extra``."""
    base = settings.TRENCH_AUTH
    return {**base, "MFA_METHODS": {**base["MFA_METHODS"], "sms": OUTBOX}, **extra}


def messages(**extra: Any) -> dict[str, list[Any]]:
    """Flow check messages (ids ``E16x``/``W16x``) under ``auth(**extra)``, by id."""
    with override_settings(TRENCH_AUTH=auth(**extra)):
        found: dict[str, list[Any]] = {}
        for message in run_checks(tags=["trench_mfa"]):
            if message.id[len("trench_mfa.") :][1:3] == "16":
                found.setdefault(message.id, []).append(message)
        return found


def test_unset_flows_keep_django_trench_login() -> None:
    with override_settings(TRENCH_AUTH=auth()):
        assert flows.login_flows() is None
        assert flows.identifiers() == {}
    assert messages() == {}


def test_flows_are_parsed_into_knowledge_secrets_and_code_factors() -> None:
    flow_list = [
        (username_field(), "password"),
        ("email", "password", "passcode", "app"),
        ("phone_number", "hardcode", "passcode"),
    ]
    with override_settings(TRENCH_AUTH=auth(FLOWS=flow_list, IDENTIFIERS=IDENTIFIERS)):
        first, second, third = flows.login_flows() or ()
    assert first.knowledge == ("password",) and first.factors == ()
    assert second.knowledge == ("password",)
    assert [(f.kind, f.method) for f in second.factors] == [
        ("passcode", "email"),
        ("method", "app"),
    ]
    assert third.knowledge == ("hardcode",) and third.factors[0].method == "sms"
    assert not third.passwordless and second.label == "email+password+passcode+app"


def test_passcode_channel_without_identifiers_is_the_only_method_of_that_field() -> None:
    with override_settings(TRENCH_AUTH=auth(FLOWS=[("phone_number", "passcode")])):
        (flow,) = flows.login_flows() or ()
        assert flow.passwordless and flow.factors[0].method == "sms"
    found = messages(FLOWS=[("phone_number", "passcode")])
    # It works, but the number is never verified (W161) nor unique (W160).
    assert set(found) == {"trench_mfa.W160", "trench_mfa.W161"}


def test_a_valid_configuration_passes_the_checks() -> None:
    found = messages(
        FLOWS=[("email", "password", "passcode"), ("phone_number", "passcode")],
        IDENTIFIERS=IDENTIFIERS,
    )
    # accounts.User's email is not unique: a warning, not an error.
    assert {m for m in found if ".E" in m} == set()


@pytest.mark.parametrize(
    ("flow_list", "check_id", "words"),
    [
        ("email", "E160", "non-empty list"),
        ([], "E160", "non-empty list"),
        ([("email",)], "E160", "at least one secret"),
        ([("email", 7)], "E160", "at least one secret"),
        ([("fax_number", "password")], "E161", "fax_number"),
        ([("mfa_methods", "password")], "E161", "mfa_methods"),
        ([("password", "app")], "E161", "not an identifier"),
        ([("email", "pin")], "E162", "'pin'"),
        ([("email", "password", "password")], "E164", "twice"),
    ],
)
def test_bad_flows_are_errors(flow_list: Any, check_id: str, words: str) -> None:
    found = messages(FLOWS=flow_list, IDENTIFIERS=IDENTIFIERS)
    assert f"trench_mfa.{check_id}" in found, found
    assert words in found[f"trench_mfa.{check_id}"][0].msg
    with override_settings(TRENCH_AUTH=auth(FLOWS=flow_list, IDENTIFIERS=IDENTIFIERS)):
        with pytest.raises(ImproperlyConfigured):
            flows.login_flows()


def test_passcode_without_a_channel_is_e143() -> None:
    found = messages(FLOWS=[("last_login", "passcode")])
    assert "trench_mfa.E163" in found


def test_passcode_with_two_candidate_channels_needs_identifiers() -> None:
    two = {"sms": OUTBOX, "sms2": OUTBOX}
    base = settings.TRENCH_AUTH
    raw = {**base, "MFA_METHODS": {**base["MFA_METHODS"], **two}}
    with override_settings(TRENCH_AUTH={**raw, "FLOWS": [("phone_number", "passcode")]}):
        errors = [m for m in run_checks(tags=["trench_mfa"]) if m.id == "trench_mfa.E163"]
        assert errors and "sms, sms2" in errors[0].msg
    identifiers = {"phone_number": {"METHOD": "sms2"}}
    with override_settings(
        TRENCH_AUTH={**raw, "FLOWS": [("phone_number", "passcode")], "IDENTIFIERS": identifiers}
    ):
        assert (flows.login_flows() or ())[0].factors[0].method == "sms2"


@pytest.mark.parametrize(
    ("identifiers", "check_id"),
    [
        ({"fax_number": {"METHOD": "sms"}}, "E161"),
        ({"email": "email"}, "E165"),
        ({"email": {"METHOD": "email", "CONFIRMED_ON_CREATE": "yes"}}, "E165"),
        ({"email": {"METHOD": "no_such_method"}}, "E163"),
        ({"email": {"METHOD": "app"}}, "E163"),  # the app sends no codes
        ({"email": {"METHOD": "sms"}}, "E163"),  # sms sends to phone_number
        (["email"], "E165"),
    ],
)
def test_bad_identifiers_are_errors(identifiers: Any, check_id: str) -> None:
    found = messages(IDENTIFIERS=identifiers)
    assert f"trench_mfa.{check_id}" in found, found


def test_a_flow_on_a_field_that_is_not_unique_warns() -> None:
    found = messages(FLOWS=[("phone_number", "passcode")], IDENTIFIERS=IDENTIFIERS)
    assert "trench_mfa.W160" in found
    assert "phone_number" in found["trench_mfa.W160"][0].msg


def test_the_username_field_is_unique_and_does_not_warn() -> None:
    found = messages(FLOWS=[(username_field(), "password")])
    assert found == {}


@pytest.mark.parametrize(
    ("key", "value", "check_id"),
    [
        ("VERIFICATION_LINK_URL", "https://example.com/confirm/", "E167"),
        ("VERIFICATION_LINK_URL", 42, "E167"),
        ("VERIFICATION_LINK_VALIDITY", 0, "E168"),
        ("VERIFICATION_LINK_VALIDITY", "3600", "E168"),
        ("HARDCODE_MIN_LENGTH", 0, "E169"),
        ("HARDCODE_MIN_LENGTH", True, "E169"),
    ],
)
def test_bad_verification_and_hardcode_settings_are_errors(
    key: str, value: Any, check_id: str
) -> None:
    assert f"trench_mfa.{check_id}" in messages(**{key: value})

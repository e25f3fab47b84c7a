"""Odd ``TRENCH_AUTH`` values never make the checks raise: they are reported.

Hypothesis generates the whole setting: not a dict at all, dicts of known
and unknown keys with values of any shape, and ``MFA_METHODS``, ``FLOWS``
and ``IDENTIFIERS`` built from the names the checks look for, so the
generated values reach the checks' deeper branches. Deterministic and
bounded, like the schema fuzzers.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.checks import CheckMessage, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from tests.support.hypothesis import fuzz_settings
from trench_mfa.conf import DEFAULTS, KNOWN_METHODS

EXAMPLES = 300

#: Values the checks compare, import or look up, next to arbitrary ones.
MEANINGFUL = st.sampled_from(
    [
        "trench_mfa.backends.email.EmailMessageDispatcher",
        "trench_mfa.backends.application.ApplicationMessageDispatcher",
        "trench_mfa.backends.yubikey.YubiKeyMessageDispatcher",
        "trench_mfa.backends.console.ConsoleMessageDispatcher",
        "os.path",
        "no_such_package.Handler",
        "email",
        "phone_number",
        "username",
        "password",
        "passcode",
        "hardcode",
        "png",
        "SHA512",
        "celery",
        "https://example.com/{key}",
        "bm90IGEga2V5",
        "",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.binary(max_size=4),
    MEANINGFUL,
)
ODD = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.frozensets(st.integers(0, 9), max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=6), MEANINGFUL), inner, max_size=3),
    ),
    max_leaves=6,
)
METHOD_KEYS = sorted({key for options in KNOWN_METHODS.values() for key in options})
METHOD = st.one_of(ODD, st.dictionaries(st.sampled_from(METHOD_KEYS), ODD, max_size=5))
METHODS = st.one_of(
    ODD,
    st.dictionaries(st.sampled_from([*KNOWN_METHODS, "sms", "custom"]), METHOD, max_size=3),
)
FLOWS = st.one_of(ODD, st.lists(st.lists(MEANINGFUL, max_size=4), max_size=3))
IDENTIFIERS = st.one_of(
    ODD,
    st.dictionaries(
        MEANINGFUL,
        st.one_of(
            ODD,
            st.fixed_dictionaries(
                {"METHOD": st.one_of(MEANINGFUL, ODD)}, optional={"CONFIRMED_ON_CREATE": ODD}
            ),
        ),
        max_size=2,
    ),
)
TRENCH_AUTH = st.one_of(
    ODD,
    st.fixed_dictionaries(
        {},
        optional={
            **{key: ODD for key in DEFAULTS},
            "MFA_METHODS": METHODS,
            "FLOWS": FLOWS,
            "IDENTIFIERS": IDENTIFIERS,
            "CODE_LENGHT": ODD,  # a misspelt key
        },
    ),
)


@fuzz_settings(EXAMPLES)
@given(trench_auth=TRENCH_AUTH)
def test_run_checks_reports_and_never_raises(trench_auth: Any) -> None:
    with override_settings(TRENCH_AUTH=trench_auth):
        found = run_checks(tags=["trench_mfa"])
    assert all(isinstance(message, CheckMessage) for message in found)
    ids = {message.id for message in found}
    if trench_auth is not None and not isinstance(trench_auth, dict):
        assert ids == {"trench_mfa.E007"}
    if isinstance(trench_auth, dict) and "CODE_LENGHT" in trench_auth:
        assert "trench_mfa.E008" in ids


# manage.py check runs Django's model checks too; on SQLite, JSONField's asks
# the database (once per process) whether it supports JSON.
@pytest.mark.django_db
@pytest.mark.parametrize(
    "trench_auth",
    [
        None,
        [],
        "TRENCH_AUTH",
        {"MFA_METHODS": None},
        {"MFA_METHODS": []},
        {"MFA_METHODS": {"email": None}},
        {"MFA_METHODS": {"email": {"HANDLER": 5, "SOURCE_FIELD": {}}}},
        {"MFA_METHODS": {"app": {"DIGITS": [6], "VALID_WINDOW": {}, "QR_CODE_FORMAT": None}}},
        {"MFA_METHODS": {"yubi": {"YUBICLOUD_API_URLS": 3, "YUBICLOUD_SECRET_KEY": "é"}}},
        {"FLOWS": "email", "IDENTIFIERS": ["email"]},
        {"FLOWS": [["email", ["password"]]], "IDENTIFIERS": {"email": {"METHOD": None}}},
        {"EPHEMERAL_TOKEN_VALIDITY": "ten", "ENCRYPTION_KEYS": [None, 5]},
        {"SEND_LIMIT_WINDOW": 0.0, "SEND_LIMIT": float("nan"), "DISPATCH": ["celery"]},
        {"MFA_ACCEPTED_AMR": "mfa", "MFA_MAX_AGE": "1h", "CODE_LENGTH": None},
    ],
)
def test_manage_py_check_ends_in_a_report(settings: Any, trench_auth: Any) -> None:
    settings.TRENCH_AUTH = trench_auth
    try:
        call_command("check", stdout=StringIO(), stderr=StringIO())
    except SystemCheckError as report:
        # Errors are reported by their ids, never by an exception of a check.
        assert "trench_mfa.E" in str(report)

"""System checks for bad ``TRENCH_AUTH`` method settings (``manage.py check``)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

EMAIL = "trench_mfa.backends.email.EmailMessageDispatcher"


def trench_messages(**trench_auth: Any) -> dict[str, list[Any]]:
    """Run the trench_mfa checks under ``TRENCH_AUTH=trench_auth``; messages by id."""
    with override_settings(TRENCH_AUTH=trench_auth):
        found: dict[str, list[Any]] = {}
        for message in run_checks(tags=["trench_mfa"]):
            found.setdefault(message.id, []).append(message)
        return found


def only_method(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A ``TRENCH_AUTH`` with one method."""
    return {"MFA_METHODS": {name: raw}}


def test_the_project_settings_pass(settings: Any) -> None:
    errors = [m for m in run_checks(tags=["trench_mfa"]) if m.is_serious()]
    assert errors == []
    call_command("check", stdout=StringIO())


@pytest.mark.parametrize(
    "handler", ["no_such_package.Dispatcher", "trench_mfa.backends.email.NoSuchClass", ""]
)
def test_unimportable_handler_is_e001(handler: str) -> None:
    found = trench_messages(**only_method("sms_x", {"HANDLER": handler}))
    assert "trench_mfa.E001" in found
    assert "sms_x" in found["trench_mfa.E001"][0].obj


def test_handler_that_is_not_a_dispatcher_is_e002() -> None:
    found = trench_messages(**only_method("sms_x", {"HANDLER": "collections.OrderedDict"}))
    assert [i for i in found if i.startswith("trench_mfa.E")] == ["trench_mfa.E002"]
    assert "collections.OrderedDict" in found["trench_mfa.E002"][0].msg


def test_source_field_missing_on_the_user_model_is_e003() -> None:
    found = trench_messages(
        **only_method("email2", {"HANDLER": EMAIL, "SOURCE_FIELD": "fax_number"})
    )
    assert "trench_mfa.E003" in found
    assert "fax_number" in found["trench_mfa.E003"][0].msg


def test_source_field_of_the_user_model_passes() -> None:
    found = trench_messages(
        **only_method(
            "sms_x",
            {
                "HANDLER": "tests.support.dispatchers.RecordingDispatcher",
                "SOURCE_FIELD": "phone_number",
            },
        )
    )
    assert not [i for i in found if i.startswith("trench_mfa.E")]


@pytest.mark.parametrize("period", [0, -1, "300", 1.5, None, True])
def test_bad_validity_period_is_e001(period: Any) -> None:
    raw: dict[str, Any] = {"VALIDITY_PERIOD": period}
    found = trench_messages(**only_method("email", raw))
    if period is None:
        # None means "use the default": not an error.
        assert "trench_mfa.E001" not in found
    else:
        assert "trench_mfa.E001" in found
        assert "VALIDITY_PERIOD" in found["trench_mfa.E001"][0].msg


def test_long_email_validity_period_is_w001() -> None:
    found = trench_messages(**only_method("email", {"VALIDITY_PERIOD": 900}))
    assert "trench_mfa.W001" in found
    assert not [i for i in found if i.startswith("trench_mfa.E")]
    assert "trench_mfa.W001" not in trench_messages(
        **only_method("email", {"VALIDITY_PERIOD": 600})
    )


def test_errors_fail_manage_py_check() -> None:
    with override_settings(TRENCH_AUTH=only_method("sms_x", {"HANDLER": "nope.Nope"})):
        with pytest.raises(SystemCheckError, match=r"trench_mfa\.E001"):
            call_command("check", stdout=StringIO(), stderr=StringIO())


def test_every_method_is_checked_not_just_the_first() -> None:
    found = trench_messages(
        MFA_METHODS={
            "email": {"VALIDITY_PERIOD": 0},
            "sms_x": {"HANDLER": "collections.OrderedDict"},
            "email2": {"HANDLER": EMAIL, "SOURCE_FIELD": "nope"},
        }
    )
    assert {"trench_mfa.E001", "trench_mfa.E002", "trench_mfa.E003"} <= set(found)

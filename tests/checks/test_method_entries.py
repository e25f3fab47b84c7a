"""``MFA_METHODS`` entries the checks must report, not trip over.

A HANDLER that is no dispatcher class (E001, E002) with login flows
configured, and a code-sending method without a usable SOURCE_FIELD (E009).
"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.checks.conftest import RunChecks
from tests.conftest import username_field

EMAIL = "trench_mfa.backends.email.EmailMessageDispatcher"
APP = "trench_mfa.backends.application.ApplicationMessageDispatcher"


@pytest.fixture
def flows_auth(project_auth: dict[str, Any]) -> dict[str, Any]:
    """The project's settings with login flows that use the email method."""
    return {
        **project_auth,
        "FLOWS": [(username_field(), "password"), ("email", "passcode")],
        "IDENTIFIERS": {"email": {"METHOD": "email"}},
    }


def _errors(found: dict[str, Any]) -> list[str]:
    return sorted(i for i in found if i.startswith("trench_mfa.E"))


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        ("no_such_package.Dispatcher", "trench_mfa.E001"),
        ("trench_mfa.backends.email.NoSuchClass", "trench_mfa.E001"),
        ("os.path", "trench_mfa.E002"),  # imports, but a module, not a class
        ("collections.OrderedDict", "trench_mfa.E002"),
    ],
)
def test_a_bad_handler_under_login_flows_is_reported_by_its_id(
    checks_under: RunChecks, flows_auth: dict[str, Any], handler: str, error: str
) -> None:
    flows_auth["MFA_METHODS"]["email"] = {"HANDLER": handler, "SOURCE_FIELD": "email"}
    found = checks_under(flows_auth)
    assert error in found
    assert "'email'" in found[error][0].obj
    assert handler in found[error][0].msg


# manage.py check runs Django's model checks too; on SQLite, JSONField's asks
# the database (once per process) whether it supports JSON.
@pytest.mark.django_db
def test_manage_py_check_with_a_bad_handler_under_flows_ends_in_its_error(
    settings: Any, flows_auth: dict[str, Any]
) -> None:
    flows_auth["MFA_METHODS"]["email"] = {"HANDLER": "no_such_package.Dispatcher"}
    settings.TRENCH_AUTH = flows_auth
    with pytest.raises(SystemCheckError, match=r"trench_mfa\.E001"):
        call_command("check", stdout=StringIO(), stderr=StringIO())


@pytest.mark.parametrize("source", [None, "", "   ", 5, ["email"]])
def test_a_sending_method_without_a_usable_source_field_is_e009(
    checks_under: RunChecks, project_auth: dict[str, Any], source: Any
) -> None:
    project_auth["MFA_METHODS"]["email"] = {"HANDLER": EMAIL, "SOURCE_FIELD": source}
    found = checks_under(project_auth)
    assert "trench_mfa.E009" in found
    assert "trench_mfa.E003" not in found
    assert "'email'" in found["trench_mfa.E009"][0].obj


def test_a_sending_method_that_names_no_source_field_at_all_is_e009(
    checks_under: RunChecks, project_auth: dict[str, Any]
) -> None:
    # A name trench_mfa has no defaults for: nothing fills SOURCE_FIELD in.
    project_auth["MFA_METHODS"]["mail2"] = {"HANDLER": EMAIL}
    found = checks_under(project_auth)
    assert [m.obj for m in found["trench_mfa.E009"]] == ["TRENCH_AUTH['MFA_METHODS']['mail2']"]


def test_a_method_that_sends_nothing_needs_no_source_field(
    checks_under: RunChecks, project_auth: dict[str, Any]
) -> None:
    project_auth["MFA_METHODS"]["app"] = {"HANDLER": APP, "SOURCE_FIELD": None}
    assert _errors(checks_under(project_auth)) == []


def test_a_source_field_that_is_no_name_is_e003_for_other_methods(
    checks_under: RunChecks, project_auth: dict[str, Any]
) -> None:
    project_auth["MFA_METHODS"]["app"] = {"HANDLER": APP, "SOURCE_FIELD": 5}
    assert _errors(checks_under(project_auth)) == ["trench_mfa.E003"]

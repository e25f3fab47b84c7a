"""``TRENCH_AUTH`` itself: not a dict is E007, an unknown key is E008 with a hint."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.checks.conftest import RunChecks
from trench_mfa.conf import DEFAULTS


@pytest.mark.parametrize("value", [["MFA_METHODS"], "email", 42, ("CODE_LENGTH", 6), True])
def test_a_value_that_is_not_a_dict_is_e007_alone(checks_under: RunChecks, value: Any) -> None:
    found = checks_under(value)
    # Every other check is skipped: each of them would only fail on the same thing.
    assert list(found) == ["trench_mfa.E007"]
    assert type(value).__name__ in found["trench_mfa.E007"][0].msg


# manage.py check runs Django's model checks too; on SQLite, JSONField's asks
# the database (once per process) whether it supports JSON.
@pytest.mark.django_db
def test_manage_py_check_reports_e007_instead_of_a_traceback(settings: Any) -> None:
    settings.TRENCH_AUTH = ["not", "a", "dict"]
    with pytest.raises(SystemCheckError, match=r"trench_mfa\.E007"):
        call_command("check", stdout=StringIO(), stderr=StringIO())


def test_none_means_unset(checks_under: RunChecks) -> None:
    found = checks_under(None)
    assert not [i for i in found if i.startswith("trench_mfa.E")]


def test_a_misspelt_key_is_e008_with_the_key_it_resembles(
    checks_under: RunChecks, project_auth: dict[str, Any]
) -> None:
    found = checks_under({**project_auth, "CODE_LENGHT": 8})
    [message] = found["trench_mfa.E008"]
    assert "'CODE_LENGHT'" in message.msg
    assert message.hint == "Did you mean 'CODE_LENGTH'?"


def test_an_unknown_key_like_no_other_gets_no_guess(
    checks_under: RunChecks, project_auth: dict[str, Any]
) -> None:
    found = checks_under({**project_auth, "ZZ": 1, 7: "seven"})
    messages = found["trench_mfa.E008"]
    assert sorted(m.msg for m in messages) == [
        "TRENCH_AUTH has an unknown key 'ZZ'.",
        "TRENCH_AUTH has an unknown key 7.",
    ]
    assert all("Did you mean" not in str(m.hint) for m in messages)


def test_every_documented_key_and_django_trenchs_model_key_pass(
    checks_under: RunChecks, project_auth: dict[str, Any]
) -> None:
    every_key = {**DEFAULTS, **project_auth, "USER_MFA_MODEL": "trench.MFAMethod"}
    assert "trench_mfa.E008" not in checks_under(every_key)

"""System checks of ``IsMFAAuthenticated``: E170, E171 (settings) and W170 (views)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command

from tests.jwt_claims.urls import CombinedView, TokenOnlyView
from trench_mfa.checks.permissions import check_mfa_permission


def ids(messages: list[Any]) -> list[str]:
    """The ids of ``messages``."""
    return [m.id for m in messages]


def test_testproject_passes() -> None:
    assert check_mfa_permission() == []
    call_command("check")  # raises on any error; the check is registered


@pytest.mark.urls("tests.jwt_claims.urls")
def test_a_view_with_jwt_authentication_passes() -> None:
    assert check_mfa_permission() == []


@pytest.mark.urls("tests.jwt_claims.misconfigured_urls")
def test_views_that_cannot_read_a_jwt_are_reported() -> None:
    messages = check_mfa_permission()
    assert ids(messages) == ["trench_mfa.W170", "trench_mfa.W170"]
    assert [m.obj for m in messages] == [TokenOnlyView, CombinedView]
    assert "TokenOnlyView requires IsMFAAuthenticated" in messages[0].msg


@pytest.mark.urls("tests.jwt_claims.urls")
def test_without_simplejwt_every_such_view_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rest_framework_simplejwt.authentication", None)
    messages = check_mfa_permission()
    assert ids(messages) == ["trench_mfa.W170"]
    assert "pip install 'trench-mfa[jwt]'" in str(messages[0].hint)


@pytest.mark.parametrize("value", [[], (), "mfa", ["mfa", 1], [""], None])
def test_accepted_amr_must_be_a_list_of_names(trench_auth: Callable[..., Any], value: Any) -> None:
    trench_auth(MFA_ACCEPTED_AMR=value)
    assert ids(check_mfa_permission()) == ["trench_mfa.E170"]


@pytest.mark.parametrize("value", [0, -5, "60", 1.5, True])
def test_max_age_must_be_positive_seconds(trench_auth: Callable[..., Any], value: Any) -> None:
    trench_auth(MFA_MAX_AGE=value)
    assert ids(check_mfa_permission()) == ["trench_mfa.E171"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"MFA_MAX_AGE": 900},
        {"MFA_MAX_AGE": None},
        {"MFA_ACCEPTED_AMR": ("otp", "hwk", "mfa")},
        {"MFA_ACCEPTED_AMR": ["hwk"]},
    ],
)
def test_valid_settings(trench_auth: Callable[..., Any], overrides: dict[str, Any]) -> None:
    trench_auth(**overrides)
    assert check_mfa_permission() == []

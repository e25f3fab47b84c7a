"""The ``DISPATCH`` setting: its default, its system check, and the audit hook."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.core import checks

from trench_mfa import signals
from trench_mfa.checks.settings import check_dispatch_mode
from trench_mfa.conf import DEFAULTS, mfa_settings
from trench_mfa.models import EventType, MFAEvent
from trench_mfa.state import audit


def ids(messages: list[checks.CheckMessage]) -> list[str | None]:
    """The ids of the check messages."""
    return [m.id for m in messages]


def test_sync_is_the_default() -> None:
    assert DEFAULTS["DISPATCH"] == "sync" == mfa_settings.DISPATCH


def test_check_is_registered() -> None:
    assert check_dispatch_mode in checks.registry.registry.get_checks()


@pytest.mark.parametrize("mode", ["sync", "celery"])
def test_known_modes_pass(trench_auth: Callable[..., Any], mode: str) -> None:
    trench_auth(DISPATCH=mode)
    assert check_dispatch_mode() == []


@pytest.mark.parametrize("mode", ["rq", "Celery", "", None, ["celery"]])
def test_unknown_mode_is_an_error(trench_auth: Callable[..., Any], mode: Any) -> None:
    trench_auth(DISPATCH=mode)
    assert ids(check_dispatch_mode()) == ["trench_mfa.E130"]


def test_celery_mode_without_celery_is_an_error(
    trench_auth: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    trench_auth(DISPATCH="celery")
    # A None entry makes ``import celery`` raise ImportError.
    monkeypatch.setitem(sys.modules, "celery", None)
    messages = check_dispatch_mode()
    assert ids(messages) == ["trench_mfa.E131"]
    assert "trench-mfa[celery]" in str(messages[0].hint)


@pytest.mark.django_db
def test_dispatch_failed_reaches_the_audit_trail(user: Any) -> None:
    audit.send(
        signals.dispatch_failed,
        "tests",
        user=user,
        method="email",
        purpose="login",
        reason="send_failed",
    )
    event = MFAEvent.objects.get()
    assert (event.user_id, event.method, event.event, event.purpose, event.outcome) == (
        user.pk,
        "email",
        EventType.DISPATCH_FAILED,
        "login",
        "send_failed",
    )
    assert event.ip is None

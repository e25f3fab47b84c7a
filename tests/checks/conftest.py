"""Fixtures of the system-check tests: run the checks under a given ``TRENCH_AUTH``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.checks import CheckMessage, run_checks

#: ``ids(value)`` sets ``TRENCH_AUTH`` to ``value`` and returns the messages by id.
RunChecks = Callable[[Any], dict[str, list[CheckMessage]]]


def messages_by_id() -> dict[str, list[CheckMessage]]:
    """Every trench_mfa check's messages under the current settings, by id."""
    found: dict[str, list[CheckMessage]] = {}
    for message in run_checks(tags=["trench_mfa"]):
        found.setdefault(str(message.id), []).append(message)
    return found


@pytest.fixture
def checks_under(settings: Any) -> RunChecks:
    """``checks_under(value)``: ``TRENCH_AUTH = value`` (restored afterwards), then the checks."""

    def run(trench_auth: Any) -> dict[str, list[CheckMessage]]:
        settings.TRENCH_AUTH = trench_auth
        return messages_by_id()

    return run


@pytest.fixture
def project_auth(settings: Any) -> dict[str, Any]:
    """A copy of the test project's ``TRENCH_AUTH`` to edit."""
    return {**settings.TRENCH_AUTH, "MFA_METHODS": dict(settings.TRENCH_AUTH["MFA_METHODS"])}

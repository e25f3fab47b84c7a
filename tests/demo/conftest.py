"""Fixtures of the demo tests: the settings ``make run`` serves."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings

from testproject import settings_flows


@pytest.fixture
def demo_settings(settings: Any) -> None:
    """``testproject.settings_flows``' login flows and identifiers (no back-off)."""
    if django_settings.AUTH_USER_MODEL != "accounts.User":
        pytest.skip("the demo (create_demo_user, djoser's sign-up body) uses testproject's user")
    settings.TRENCH_AUTH = {**settings_flows.TRENCH_AUTH, "THROTTLE_FACTOR": 0}

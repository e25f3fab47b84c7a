"""Login step 1 without a ``trench_mfa_login`` throttle rate is warning W145."""

from __future__ import annotations

from typing import Any

import pytest

from tests.checks.conftest import messages_by_id


def _with_rates(settings: Any, rates: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.mark.parametrize("rates", [{}, None, {"trench_mfa_send": "20/min"}, ["10/min"]])
def test_no_login_rate_is_w145(settings: Any, rates: Any) -> None:
    _with_rates(settings, rates)
    [message] = messages_by_id()["trench_mfa.W145"]
    assert "'trench_mfa_login'" in message.msg
    assert not message.is_serious()


def test_a_login_rate_silences_w145(settings: Any) -> None:
    _with_rates(settings, {"trench_mfa_login": "10/min"})
    assert "trench_mfa.W145" not in messages_by_id()

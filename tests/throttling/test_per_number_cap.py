"""SMS sends to one phone number are capped, whoever asks for them.

More cases (normalised numbers, failed sends, no cap) are in
``tests/sms/test_cooldown_and_number_cap.py``; per IP, the ``trench_mfa_send``
throttle is in ``tests/throttling/test_login_throttle.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.support.sms_outbox import OUTBOX, sent

pytestmark = pytest.mark.django_db


def test_sms_sends_are_capped_per_number(
    user_factory: Callable[..., Any],
    client_for: Callable[[Any], APIClient],
    trench_auth: Callable[..., Any],
) -> None:
    trench_auth(methods={"sms": OUTBOX})
    sent.clear()
    statuses = []
    for n in range(20):
        victim = user_factory(username=f"u{n}", phone_number="+48600999888")
        statuses.append(client_for(victim).post("/auth/sms/activate/").status_code)
    assert statuses == [200] * 5 + [429] * 15
    assert len(sent) == 5

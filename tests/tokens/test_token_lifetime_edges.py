"""An ephemeral token resolves until its last second and not after."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.support.throttling import shift
from trench_mfa.state import tokens

pytestmark = pytest.mark.django_db


def test_a_token_resolves_for_599_seconds_and_not_at_600(
    email_user: Any, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    # test_token_rules.py checks TTL-1 s and TTL+1 s through a full login; here the token alone.
    user, _ = email_user
    token, _ = tokens.issue_token(user, "email")
    shift(clock, 599)
    assert tokens.resolve_token(token)
    shift(clock, 1)
    with pytest.raises(Exception, match="Invalid or expired token"):
        tokens.resolve_token(token)

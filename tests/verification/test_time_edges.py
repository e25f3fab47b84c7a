"""Codes and TOTP steps at the edges of time: 299 s and 301 s, a clock moved back."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import last_code
from tests.support.app import activate_app, totp_from_uri
from tests.support.throttling import answer, login, shift

pytestmark = pytest.mark.django_db


def test_a_code_verifies_at_299_seconds_and_not_at_301(
    user: Any, email_login_token: str, anon_client: APIClient, clock: time_machine.Coordinates
) -> None:
    shift(clock, 299)
    assert answer(anon_client, email_login_token, last_code()).status_code == 200
    shift(clock, 61)
    token = login(anon_client, user)
    shift(clock, 301)
    assert answer(anon_client, token, last_code()).status_code == 401


def test_a_clock_moved_back_cannot_replay_a_totp_step(
    user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        totp = totp_from_uri(activate_app(api_client)["details"])
        shift(clock, 60)
        code = totp.now()
        assert api_client.post("/auth/app/activate/confirm/", {"code": code}).status_code == 200
    # The server clock goes back one step: that step's code is older than the last one.
    with time_machine.travel(1_800_000_030, tick=False):
        token = login(anon_client, user)
        assert answer(anon_client, token, totp.now()).status_code == 401

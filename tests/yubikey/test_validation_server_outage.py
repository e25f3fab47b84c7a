"""YubiCloud unreachable: 503, and the attempt does not count against the user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import assert_error
from tests.support.throttling import answer, counters, login
from tests.support.yubikey import FakeValidationServer, closed_port_url, make_otp

pytestmark = pytest.mark.django_db


def test_yubicloud_unreachable_is_503_and_not_counted(
    user: Any,
    api_client: APIClient,
    anon_client: APIClient,
    yubicloud: FakeValidationServer,
    yubi_settings: Callable[..., Any],
) -> None:
    api_client.post("/auth/yubi/activate/")
    assert api_client.post("/auth/yubi/activate/confirm/", {"code": make_otp()}).status_code == 200
    yubi_settings(YUBICLOUD_API_URLS=[closed_port_url()])
    token = login(anon_client, user)
    response = answer(anon_client, token, make_otp())
    assert_error(response, 503, "dispatch_failed")
    assert counters(user, "yubi")[0] == 0

"""Fixtures of the remembered-device tests: the feature on, and a remembered device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, Flavour, credentials, last_code

#: The flavour where the flavour does not matter (JWT: its claims can be read).
JWT = FLAVOURS[0]
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def remembering(trench_auth: Callable[..., dict[str, Any]]) -> None:
    """Remembered devices on, for 30 days."""
    trench_auth(REMEMBER_DEVICE=True, REMEMBER_DEVICE_DAYS=30)


@dataclass
class Device:
    """A remembered device: its token, and the login answer that carried it."""

    token: str
    body: dict[str, Any]
    response: Any


def login_with_code(
    user: Any, flavour: Flavour = JWT, *, remember: bool | None = None, **headers: Any
) -> Any:
    """A full login (password, then the emailed code); the step-2 response."""
    client = APIClient()
    mail.outbox.clear()
    first = client.post(flavour.login, credentials(user), **headers)
    assert first.status_code == 200, first.content
    body: dict[str, Any] = {"ephemeral_token": first.json()["ephemeral_token"], "code": last_code()}
    if remember is not None:
        body["remember_device"] = remember
    return client.post(flavour.code, body, **headers)


def remember_device(user: Any, flavour: Flavour = JWT, agent: str = FIREFOX) -> Device:
    """Log ``user`` in with ``remember_device`` and return the device token."""
    response = login_with_code(user, flavour, remember=True, HTTP_USER_AGENT=agent)
    assert response.status_code == 200, response.content
    body = response.json()
    assert "device_token" in body, body
    return Device(body["device_token"], body, response)


@pytest.fixture
def device(email_mfa_user: Any, remembering: None) -> Device:
    """``user`` (email MFA) with one remembered device."""
    user, _ = email_mfa_user
    return remember_device(user)


def step_one(user: Any, flavour: Flavour = JWT, **extra: Any) -> Any:
    """Login step 1 with the right password and ``extra`` body fields (or ``HTTP_*`` headers)."""
    headers = {k: v for k, v in extra.items() if k.startswith("HTTP_")}
    body = {**credentials(user), **{k: v for k, v in extra.items() if k not in headers}}
    return APIClient().post(flavour.login, body, **headers)

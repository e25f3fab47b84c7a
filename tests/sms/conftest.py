"""Fixtures of the SMS tests: settings, codes, a user with a number, the network guard.

Every provider test drives the real client library against a pytest-httpserver
stub on 127.0.0.1 (``stub`` and ``tls_stub`` from ``tests.support.sms_stubs``).
A guard makes any connection to another address fail, so a test that forgets
``ENDPOINT_URL`` cannot reach a real provider.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.support import sms_outbox as outbox
from tests.support.sms_providers import PHONE

#: A code the tests force, so failure paths can search the logs for it.
FIXED_CODE = "493817"


@pytest.fixture(autouse=True)
def _loopback_only(loopback_only: None) -> None:
    """No connection beyond loopback (``tests.support.sms_stubs``); an empty outbox."""
    outbox.sent.clear()
    outbox.fail_next = 0


@pytest.fixture
def fixed_code(monkeypatch: pytest.MonkeyPatch) -> str:
    """Make every generated code :data:`FIXED_CODE`."""
    monkeypatch.setattr(
        "trench_mfa.state.codes.crypto.generate_numeric_code", lambda length: FIXED_CODE
    )
    return FIXED_CODE


@pytest.fixture
def sequential_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Generated codes are 100001, 100002, ...: distinct, so old ones are testable."""
    counter = itertools.count(100001)
    monkeypatch.setattr(
        "trench_mfa.state.codes.crypto.generate_numeric_code",
        lambda length: str(next(counter)),
    )


@pytest.fixture
def sms_methods(
    trench_auth: Callable[..., dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """Configure SMS methods on top of the project's: ``sms_methods(name=config, ...)``."""

    def configure(**methods: Any) -> dict[str, Any]:
        overrides = methods.pop("settings", {})
        return trench_auth(methods=methods, **overrides)  # type: ignore[no-any-return]

    return configure


@pytest.fixture
def phone_user(user_factory: Callable[..., Any]) -> Any:
    """A user with a valid mobile number."""
    return user_factory(username="sms-user", phone_number=PHONE)


@pytest.fixture
def phone_client(phone_user: Any, client_for: Callable[[Any], APIClient]) -> APIClient:
    """``phone_user``'s API client."""
    return client_for(phone_user)

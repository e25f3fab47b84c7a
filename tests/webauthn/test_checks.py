"""System checks of WebAuthn methods and of passkey login."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.authenticator import WEBAUTHN_METHOD
from trench_mfa.checks.webauthn import check_webauthn_methods


def _ids(trench_auth: Callable[..., Any], **method: Any) -> list[str]:
    trench_auth(methods={"webauthn": {**WEBAUTHN_METHOD, **method}})
    return sorted(m.id for m in check_webauthn_methods())


def test_the_test_configuration_passes(trench_auth: Callable[..., Any]) -> None:
    assert _ids(trench_auth) == []


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ({"RP_ID": None}, ["trench_mfa.E180"]),
        ({"RP_ID": "127.0.0.1", "ORIGINS": ["https://127.0.0.1"]}, ["trench_mfa.E180"]),
        ({"RP_ID": "https://example.com"}, ["trench_mfa.E180", "trench_mfa.E182"]),
        ({"ORIGINS": []}, ["trench_mfa.E181"]),
        ({"ORIGINS": "https://example.com"}, ["trench_mfa.E181"]),
        ({"ORIGINS": ["http://example.com"]}, ["trench_mfa.E181"]),
        ({"ORIGINS": ["https://example.com/path"]}, ["trench_mfa.E181"]),
        ({"ORIGINS": ["https://example.org"]}, ["trench_mfa.E182"]),
        ({"USER_VERIFICATION": "always"}, ["trench_mfa.E183"]),
        ({"RESIDENT_KEY": True}, ["trench_mfa.E183"]),
        ({"ATTESTATION": "full"}, ["trench_mfa.E184"]),
    ],
)
def test_bad_options_are_named(
    trench_auth: Callable[..., Any], option: dict[str, Any], expected: list[str]
) -> None:
    assert _ids(trench_auth, **option) == expected


def test_localhost_over_http_and_subdomains_are_fine(trench_auth: Callable[..., Any]) -> None:
    assert _ids(trench_auth, RP_ID="localhost", ORIGINS=["http://localhost:8000"]) == []
    assert _ids(trench_auth, ORIGINS=["https://login.example.com:8443"]) == []


def test_passkey_login_needs_a_webauthn_method(trench_auth: Callable[..., Any]) -> None:
    trench_auth(
        PASSKEY_LOGIN=True,
        methods={"webauthn": {"HANDLER": "trench_mfa.backends.email.EmailMessageDispatcher"}},
    )
    assert [m.id for m in check_webauthn_methods()] == ["trench_mfa.E185"]
    assert _ids(trench_auth, RESIDENT_KEY="discouraged") == ["trench_mfa.W180"]


def test_a_passwordless_flow_cannot_start_with_webauthn(trench_auth: Callable[..., Any]) -> None:
    from django.contrib.auth import get_user_model

    login = get_user_model().USERNAME_FIELD
    trench_auth(
        FLOWS=[(login, "password"), (login, "webauthn")],
        methods={"webauthn": WEBAUTHN_METHOD},
        PASSKEY_LOGIN=False,
    )
    assert [m.id for m in check_webauthn_methods()] == ["trench_mfa.E186"]

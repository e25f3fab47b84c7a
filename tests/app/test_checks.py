"""System checks for the app method and for the encryption keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet

from trench_mfa.checks.settings import check_app_methods, check_encryption_keys


def _ids(messages: list[Any]) -> list[str]:
    return sorted(m.id for m in messages)


def test_default_app_settings_pass(app_options: Callable[..., Any]) -> None:
    app_options()
    assert check_app_methods() == []


@pytest.mark.parametrize(
    "options",
    [{"DIGITS": 8}, {"ALGORITHM": "SHA256"}, {"ALGORITHM": "SHA512"}, {"VALIDITY_PERIOD": 60}],
)
def test_non_default_totp_parameters_warn(
    app_options: Callable[..., Any], options: dict[str, Any]
) -> None:
    app_options(**options)
    messages = check_app_methods()
    assert _ids(messages) == ["trench_mfa.W102"]
    assert "ignore" in messages[0].hint


@pytest.mark.parametrize(
    ("options", "check_id"),
    [
        ({"DIGITS": 7}, "trench_mfa.E102"),
        ({"ALGORITHM": "MD5"}, "trench_mfa.E103"),
        ({"VALID_WINDOW": 2}, "trench_mfa.E104"),
        ({"VALID_WINDOW": -1}, "trench_mfa.E104"),
        ({"VALID_WINDOW": True}, "trench_mfa.E104"),
        ({"QR_CODE_FORMAT": "gif"}, "trench_mfa.E105"),
    ],
)
def test_invalid_app_options_are_errors(
    app_options: Callable[..., Any], options: dict[str, Any], check_id: str
) -> None:
    app_options(**options)
    assert check_id in _ids(check_app_methods())


@pytest.mark.parametrize("issuer", ["Acme:Corp", "", "   "])
def test_issuer_must_not_contain_a_colon(settings: Any, issuer: str) -> None:
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "APPLICATION_ISSUER_NAME": issuer}
    assert _ids(check_app_methods()) == ["trench_mfa.E107"]


def test_issuer_is_not_checked_without_an_app_method(settings: Any) -> None:
    settings.TRENCH_AUTH = {
        "MFA_METHODS": {"email": settings.TRENCH_AUTH["MFA_METHODS"]["email"]},
        "APPLICATION_ISSUER_NAME": "Acme:Corp",
    }
    assert check_app_methods() == []


def test_unset_encryption_keys_warn(settings: Any) -> None:
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "ENCRYPTION_KEYS": None}
    messages = check_encryption_keys()
    assert _ids(messages) == ["trench_mfa.W101"]
    assert "ENCRYPTION_KEYS" in messages[0].hint


def test_valid_encryption_keys_pass(settings: Any) -> None:
    keys = [Fernet.generate_key().decode(), Fernet.generate_key().decode()]
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "ENCRYPTION_KEYS": keys}
    assert check_encryption_keys() == []


@pytest.mark.parametrize("value", [["nope"], [], "a-string"])
def test_invalid_encryption_keys_are_errors(settings: Any, value: Any) -> None:
    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "ENCRYPTION_KEYS": value}
    messages = check_encryption_keys()
    assert _ids(messages) == ["trench_mfa.E101"]
    assert "ENCRYPTION_KEYS" in messages[0].msg


def test_default_methods_include_the_app(settings: Any) -> None:
    from trench_mfa.conf import mfa_settings

    settings.TRENCH_AUTH = {}
    assert list(mfa_settings.methods) == ["email", "app"]
    app = mfa_settings.method("app")
    assert app is not None and app.validity_period == 30
    assert (app["DIGITS"], app["ALGORITHM"], app["VALID_WINDOW"]) == (6, "SHA1", 1)


def test_project_default_validity_does_not_change_the_totp_step(settings: Any) -> None:
    from trench_mfa.conf import mfa_settings

    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "DEFAULT_VALIDITY_PERIOD": 300}
    app = mfa_settings.method("app")
    assert app is not None and app.validity_period == 30

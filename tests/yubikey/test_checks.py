"""System checks for YubiKey methods."""

from __future__ import annotations

from typing import Any

import pytest

from trench_mfa.checks.settings import check_yubikey_methods


def _ids(messages: list[Any]) -> list[str]:
    return sorted(m.id for m in messages)


def test_complete_settings_pass(yubi_settings: Any) -> None:
    assert check_yubikey_methods() == []


@pytest.mark.parametrize(
    ("options", "check_id"),
    [
        ({"YUBICLOUD_CLIENT_ID": None}, "trench_mfa.E110"),
        ({"YUBICLOUD_SECRET_KEY": None}, "trench_mfa.W110"),
        ({"YUBICLOUD_SECRET_KEY": "not base64!"}, "trench_mfa.E111"),
        ({"YUBICLOUD_API_URLS": []}, "trench_mfa.E112"),
        ({"YUBICLOUD_API_URLS": ["ftp://example.invalid/verify"]}, "trench_mfa.E112"),
        ({"YUBICLOUD_TIMEOUT": 30}, "trench_mfa.E113"),
        ({"YUBICLOUD_TIMEOUT": 0}, "trench_mfa.E113"),
        ({"YUBICLOUD_TIMEOUT": 2.5}, "trench_mfa.E113"),
    ],
)
def test_bad_settings_are_reported(
    yubi_settings: Any, options: dict[str, Any], check_id: str
) -> None:
    yubi_settings(**options)
    assert _ids(check_yubikey_methods()) == [check_id]


def test_a_single_url_string_is_accepted(yubi_settings: Any) -> None:
    yubi_settings(YUBICLOUD_API_URLS="https://api.yubico.com/wsapi/2.0/verify")
    assert check_yubikey_methods() == []


def test_known_method_defaults(yubi_settings: Any) -> None:
    from trench_mfa.conf import mfa_settings

    yubi_settings()
    config = mfa_settings.method("yubi")
    assert config is not None
    assert config["YUBICLOUD_TIMEOUT"] == 1  # the tests' own value
    from trench_mfa.conf import KNOWN_METHODS

    assert KNOWN_METHODS["yubi"]["YUBICLOUD_TIMEOUT"] == 10
    assert KNOWN_METHODS["yubi"]["YUBICLOUD_API_URLS"] == (
        "https://api.yubico.com/wsapi/2.0/verify",
    )

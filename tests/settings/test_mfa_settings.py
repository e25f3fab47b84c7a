"""``mfa_settings``: read at call time, honours overrides, never mutates the project's dict."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, FLAVOURS, activate, last_code, start_login
from trench_mfa.conf import DEFAULTS, MethodConfig, build_method_config, mfa_settings


def test_defaults_when_nothing_is_set() -> None:
    with override_settings(TRENCH_AUTH={}):
        assert mfa_settings.MAX_CODE_ATTEMPTS == 5
        assert mfa_settings.EPHEMERAL_TOKEN_VALIDITY == 600
        assert mfa_settings.CONFIRM_DISABLE_WITH_CODE is True
        assert mfa_settings.BACKUP_CODES_QUANTITY == 10
        assert "email" in mfa_settings.methods
        assert mfa_settings.method("email").validity_period == 300  # type: ignore[union-attr]


def test_override_settings_is_honoured_at_once() -> None:
    assert mfa_settings.MAX_CODE_ATTEMPTS == 5
    with override_settings(TRENCH_AUTH={"MAX_CODE_ATTEMPTS": 2, "MFA_METHODS": {"email": {}}}):
        assert mfa_settings.MAX_CODE_ATTEMPTS == 2
        assert list(mfa_settings.methods) == ["email"]
    assert mfa_settings.MAX_CODE_ATTEMPTS == 5


@pytest.mark.django_db
def test_override_reaches_the_api(anon_client: APIClient) -> None:
    with override_settings(TRENCH_AUTH={"ALLOW_BACKUP_CODES_REGENERATION": False}):
        body = anon_client.get("/auth/mfa/config/").json()
        assert body["allow_backup_codes_regeneration"] is False
    assert anon_client.get("/auth/mfa/config/").json()["allow_backup_codes_regeneration"]


@pytest.mark.django_db
def test_the_projects_dict_is_never_mutated(
    settings: Any,
    user: Any,
    api_client: APIClient,
    anon_client: APIClient,
    trench_auth: Callable[..., Any],
) -> None:
    project = settings.TRENCH_AUTH
    snapshot = copy.deepcopy(project)
    methods_before = {name: dict(raw) for name, raw in project["MFA_METHODS"].items()}
    # Exercise every reader: merged settings, method configs, a full login.
    assert mfa_settings.methods
    activate(api_client)
    token = start_login(anon_client, FLAVOURS[0], user)["ephemeral_token"]
    anon_client.post(FLAVOURS[0].code, {"ephemeral_token": token, "code": last_code()})
    assert settings.TRENCH_AUTH is project
    assert project == snapshot
    assert {name: dict(raw) for name, raw in project["MFA_METHODS"].items()} == methods_before
    assert "VALIDITY_PERIOD" not in project["MFA_METHODS"]["email"]


def test_an_override_dict_is_not_mutated_either() -> None:
    mine = {"MFA_METHODS": {"email2": dict(EMAIL2)}, "CODE_LENGTH": 8}
    snapshot = copy.deepcopy(mine)
    with override_settings(TRENCH_AUTH=mine):
        config = mfa_settings.method("email2")
        assert config is not None and config.validity_period == 300
        assert mfa_settings.CODE_LENGTH == 8
    assert mine == snapshot


def test_unknown_keys_are_ignored() -> None:
    with override_settings(TRENCH_AUTH={"USER_MFA_MODEL": "trench.MFAMethod"}):
        with pytest.raises(AttributeError):
            _ = mfa_settings.USER_MFA_MODEL
        assert mfa_settings.CODE_LENGTH == DEFAULTS["CODE_LENGTH"]


def test_custom_method_name_needs_no_default_entry() -> None:
    raw = {
        "HANDLER": "tests.support.dispatchers.RecordingDispatcher",
        "SOURCE_FIELD": "phone_number",
    }
    with override_settings(TRENCH_AUTH={"MFA_METHODS": {"sms_custom": raw}}):
        config = mfa_settings.method("sms_custom")
        assert config is not None
        assert (config.name, config.source_field, config.validity_period) == (
            "sms_custom",
            "phone_number",
            300,
        )
        assert mfa_settings.method("email") is None


def test_method_config_is_a_read_only_mapping() -> None:
    config = build_method_config("email", {}, {})
    assert isinstance(config, MethodConfig)
    assert config["SOURCE_FIELD"] == "email" and config["VALIDITY_PERIOD"] == 300
    assert config.get("NOPE") is None and "HANDLER" in config and len(config) >= 4
    with pytest.raises(TypeError):
        config.options["SOURCE_FIELD"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        config.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "project", "expected"),
    [
        ({}, {}, 300),  # the handler's default
        ({}, {"DEFAULT_VALIDITY_PERIOD": 120}, 120),  # the project's default
        ({"VALIDITY_PERIOD": 60}, {"DEFAULT_VALIDITY_PERIOD": 120}, 60),  # the method's own
    ],
)
def test_validity_period_precedence(
    raw: dict[str, Any], project: dict[str, Any], expected: int
) -> None:
    assert build_method_config("email", raw, project).validity_period == expected


@pytest.mark.parametrize(
    "raw",
    [
        {"HANDLER": "no.such.module.Dispatcher"},
        {"HANDLER": ""},
        {"VALIDITY_PERIOD": 0},
        {"VALIDITY_PERIOD": -5},
        {"VALIDITY_PERIOD": "300"},
        {"VALIDITY_PERIOD": True},
    ],
)
def test_bad_method_settings_raise_improperly_configured(raw: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured, match="email"):
        build_method_config("email", raw, {})


def test_secret_key_change_reloads(settings: Any) -> None:
    before = mfa_settings.methods
    settings.SECRET_KEY = "x" * 50
    assert mfa_settings.methods == before

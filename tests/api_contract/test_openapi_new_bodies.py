"""The OpenAPI schema documents remembered devices and the enrolment token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from django.core.management import call_command


def _schema(tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    return yaml.safe_load(target.read_text())  # type: ignore[no-any-return]


def _body(schema: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    name = ref["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][name]  # type: ignore[no-any-return]


def test_devices_endpoints_and_login_fields_are_documented(tmp_path: Path) -> None:
    schema = _schema(tmp_path)
    paths = schema["paths"]
    listing = paths["/auth/devices/"]["get"]["responses"]["200"]["content"]["application/json"]
    device = _body(schema, listing["schema"]["items"])
    assert set(device["properties"]) == {
        "id",
        "name",
        "created_at",
        "last_used_at",
        "last_ip",
        "expires_at",
    }
    assert set(paths["/auth/devices/"]) == {"get", "delete"}
    assert "404" in paths["/auth/devices/{device_id}/"]["delete"]["responses"]
    step_one = paths["/auth/jwt/login/"]["post"]
    request = _body(schema, step_one["requestBody"]["content"]["application/json"]["schema"])
    assert "device_token" in request["properties"]
    answer = _body(schema, step_one["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"enrolment_token", "methods"} <= set(answer["properties"])
    step_two = paths["/auth/jwt/login/code/"]["post"]
    request = _body(schema, step_two["requestBody"]["content"]["application/json"]["schema"])
    assert "remember_device" in request["properties"]
    answer = _body(schema, step_two["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"device_token", "device_expires_at"} <= set(answer["properties"])


def test_the_activation_endpoints_name_the_enrolment_token(tmp_path: Path) -> None:
    schema = _schema(tmp_path)
    assert "mfaEnrolmentToken" in schema["components"]["securitySchemes"]
    for path in ("/auth/{method}/activate/", "/auth/{method}/activate/confirm/"):
        security = schema["paths"][path]["post"]["security"]
        assert {"mfaEnrolmentToken": []} in security
    assert {"mfaEnrolmentToken": []} not in schema["paths"]["/auth/code/request/"]["post"][
        "security"
    ]

"""The OpenAPI schema describes the flow login bodies when FLOWS is set."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import yaml
from django.core.management import call_command

from tests.conftest import username_field
from tests.support.flows import default_flows


def generate(tmp_path: Path) -> dict[str, Any]:
    """The schema, validated; any warning fails the test."""
    target = tmp_path / "schema.yml"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=StringIO()
    )
    return yaml.safe_load(target.read_text())  # type: ignore[no-any-return]


def body_schema(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The request body schema of ``POST path``, resolved."""
    ref = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]  # type: ignore[no-any-return]


def answer_name(schema: dict[str, Any], path: str) -> str:
    """The component name of the 200 answer of ``POST path``."""
    ref = schema["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]
    return str(ref["schema"]["$ref"].rsplit("/", 1)[1])


def test_without_flows_the_login_body_is_django_trenchs(tmp_path: Path) -> None:
    schema = generate(tmp_path)
    for flavour in ("jwt", "token"):
        body = body_schema(schema, f"/auth/{flavour}/login/")
        # django-trench's fields, plus the optional token of a remembered device.
        assert set(body["properties"]) == {username_field(), "password", "device_token"}
        assert set(body["required"]) == {username_field(), "password"}
    assert answer_name(schema, "/auth/jwt/login/code/") == "JWTResponse"
    assert answer_name(schema, "/auth/token/login/code/") == "AuthTokenResponse"
    assert "FlowLogin" not in schema["components"]["schemas"]


def test_with_flows_the_login_body_lists_every_flows_fields(
    flows_config: Callable[..., Any], tmp_path: Path
) -> None:
    flows_config(flows=default_flows())
    schema = generate(tmp_path)
    for flavour in ("jwt", "token"):
        body = body_schema(schema, f"/auth/{flavour}/login/")
        fields = {username_field(), "email", "phone_number", "password", "hardcode", "device_token"}
        assert set(body["properties"]) == fields
        assert "required" not in body  # each field alone is optional...
        # ...but one flow's identifier and knowledge secrets must be there.
        assert body["anyOf"] == [
            {"required": [username_field(), "password"]},
            *([{"required": ["email", "password"]}] if username_field() != "email" else []),
            {"required": ["phone_number", "hardcode"]},
            {"required": ["email"]},
        ]
        assert body["properties"]["password"]["writeOnly"] is True
        assert body["properties"]["hardcode"]["writeOnly"] is True
    # Step 2 answers tokens or the next factor's challenge, like step 1.
    assert answer_name(schema, "/auth/jwt/login/code/") == "JWTLoginResponse"
    assert answer_name(schema, "/auth/token/login/code/") == "AuthTokenLoginResponse"
    challenge = schema["components"]["schemas"]["JWTLoginResponse"]["properties"]
    assert {"ephemeral_token", "method", "factors_remaining"} <= set(challenge)

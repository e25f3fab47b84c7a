"""The OpenAPI schema validates without warnings, and the docs pages answer."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_spectacular_validates_without_warnings(tmp_path: Path) -> None:
    target = tmp_path / "schema.yml"
    err = StringIO()
    # --fail-on-warn turns any warning into a CommandError (a failed test).
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=err)
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        "/auth/{method}/activate/",
        "/auth/{method}/activate/confirm/",
        "/auth/{method}/deactivate/",
        "/auth/{method}/codes/regenerate/",
        "/auth/code/request/",
        "/auth/mfa/config/",
        "/auth/mfa/user-active-methods/",
        "/auth/mfa/change-primary-method/",
        "/auth/jwt/login/",
        "/auth/jwt/login/code/",
        "/auth/jwt/login/code/request/",
        "/auth/token/login/",
        "/auth/token/login/code/",
        "/auth/token/login/code/request/",
        "/auth/token/logout/",
    ):
        assert path in paths, path
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_docs_pages_answer(anon_client: APIClient, path: str) -> None:
    response = anon_client.get(path)
    assert response.status_code == 200


def test_bad_request_documents_django_trench_shapes_and_error_codes(tmp_path: Path) -> None:
    """A 400 is the envelope, a field error (its ErrorDetail codes named) or a bare list."""
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    operation = schema["paths"]["/auth/{method}/deactivate/"]["post"]
    shapes = operation["responses"]["400"]["content"]["application/json"]["schema"]["oneOf"]
    kinds = [shape["type"] for shape in shapes]
    assert kinds.count("array") == 1 and kinds.count("object") == 3
    field_errors = next(s for s in shapes if "additionalProperties" in s and "description" in s)
    for code in ("code_invalid_or_expired", "not_enabled", "invalid_input", "otp_code_missing"):
        assert code in field_errors["description"]

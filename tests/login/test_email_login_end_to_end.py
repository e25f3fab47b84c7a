"""A first end-to-end pass over the email login (details in the other modules)."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.conftest import credentials, last_code


def test_email_login_end_to_end(
    email_mfa_user: tuple[Any, list[str]], anon_client: APIClient
) -> None:
    user, backup_codes = email_mfa_user
    assert len(backup_codes) == 10
    step1 = anon_client.post("/auth/jwt/login/", credentials(user), format="json")
    assert step1.status_code == 200
    body = step1.json()
    assert body["method"] == "email" and body["other_methods"] == []
    step2 = anon_client.post(
        "/auth/jwt/login/code/",
        {"ephemeral_token": body["ephemeral_token"], "code": last_code()},
        format="json",
    )
    assert step2.status_code == 200
    assert set(step2.json()) == {"refresh", "access"}

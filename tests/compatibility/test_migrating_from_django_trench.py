"""A django-trench project switches by changing only app label, includes and HANDLER paths.

The settings below are django-trench 0.3's documented ``TRENCH_AUTH`` for the
email method, with the one edit the migration guide asks for: the HANDLER
path. Keys trench_mfa does not use (``USER_MFA_MODEL``) are ignored, and the
template paths trench projects name still resolve.
"""

from __future__ import annotations

import string
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.conftest import credentials, last_code

TRENCH_STYLE_SETTINGS = {
    "USER_MFA_MODEL": "trench.MFAMethod",
    "USER_ACTIVE_FIELD": "is_active",
    "BACKUP_CODES_QUANTITY": 5,
    "BACKUP_CODES_LENGTH": 12,
    "BACKUP_CODES_CHARACTERS": string.ascii_letters + string.digits,
    "SECRET_KEY_LENGTH": 32,
    "DEFAULT_VALIDITY_PERIOD": 30,
    "CONFIRM_DISABLE_WITH_CODE": False,
    "CONFIRM_BACKUP_CODES_REGENERATION_WITH_CODE": True,
    "ALLOW_BACKUP_CODES_REGENERATION": True,
    "ENCRYPT_BACKUP_CODES": True,
    "APPLICATION_ISSUER_NAME": "MyApplication",
    "MFA_METHODS": {
        "email": {
            "VERBOSE_NAME": "email",
            "VALIDITY_PERIOD": 60 * 10,
            "HANDLER": "trench_mfa.backends.email.EmailMessageDispatcher",
            "SOURCE_FIELD": "email",
            "EMAIL_SUBJECT": "Your verification code",
            "EMAIL_PLAIN_TEMPLATE": "trench/backends/email/code.txt",
            "EMAIL_HTML_TEMPLATE": "trench/backends/email/code.html",
        },
    },
}


@pytest.mark.parametrize(
    ("prefix", "token_keys"),
    [("/auth/jwt", {"refresh", "access"}), ("/auth/token", {"auth_token"})],
)
@override_settings(TRENCH_AUTH=TRENCH_STYLE_SETTINGS)
def test_trench_email_project_works_unchanged(
    user: Any, api_client: APIClient, anon_client: APIClient, prefix: str, token_keys: set[str]
) -> None:
    assert api_client.post("/auth/email/activate/").json() == {
        "details": "Email message with MFA code has been sent."
    }
    assert mail.outbox[-1].subject == "Your verification code"
    assert "text/html" in mail.outbox[-1].alternatives[0][1]
    confirmed = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert confirmed.status_code == 200
    codes = confirmed.json()["backup_codes"]
    assert len(codes) == 5
    assert all(len(c) == 12 and set(c) <= set(string.ascii_letters + string.digits) for c in codes)

    step1 = anon_client.post(f"{prefix}/login/", credentials(user))
    assert step1.status_code == 200
    assert step1.json()["method"] == "email"
    step2 = anon_client.post(
        f"{prefix}/login/code/",
        {"ephemeral_token": step1.json()["ephemeral_token"], "code": last_code()},
    )
    assert step2.status_code == 200, step2.content
    assert set(step2.json()) == token_keys

    # CONFIRM_DISABLE_WITH_CODE=False is honoured as trench projects expect.
    assert api_client.post("/auth/email/deactivate/").status_code == 204


@override_settings(TRENCH_AUTH=TRENCH_STYLE_SETTINGS)
def test_trench_project_dict_is_not_mutated(user: Any, api_client: APIClient) -> None:
    before = repr(TRENCH_STYLE_SETTINGS)
    api_client.post("/auth/email/activate/")
    assert repr(TRENCH_STYLE_SETTINGS) == before


@override_settings(TRENCH_AUTH=TRENCH_STYLE_SETTINGS)
def test_mixed_case_backup_codes_are_not_case_folded(user: Any, api_client: APIClient) -> None:
    api_client.post("/auth/email/activate/")
    codes = api_client.post("/auth/email/activate/confirm/", {"code": last_code()}).json()[
        "backup_codes"
    ]
    code = next(c for c in codes if c != c.swapcase())
    step1 = APIClient().post("/auth/token/login/", credentials(user))
    token = step1.json()["ephemeral_token"]
    wrong_case = APIClient().post(
        "/auth/token/login/code/", {"ephemeral_token": token, "code": code.swapcase()}
    )
    assert wrong_case.status_code == 401
    # One failure: the back-off (on with these settings) refuses checks for 1 s.
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        right = APIClient().post(
            "/auth/token/login/code/", {"ephemeral_token": token, "code": code}
        )
    assert right.status_code == 200

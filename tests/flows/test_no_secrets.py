"""No secret of a login flow or of identifier verification reaches a log or an event.

The same search as ``tests/audit/test_no_secret_in_any_flow.py``, over the flows of
``TRENCH_AUTH["FLOWS"]``: identifier verification by code and by link,
setting a hardcode, passwordless email login, hardcode plus SMS code, a
password login with the MFA method on top, a decoy login for an unknown
address, resends and wrong codes. Every generated secret (codes, link keys,
the hardcode, the password, ephemeral tokens, issued tokens, backup codes)
is searched for in every record captured at DEBUG and in every MFAEvent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, PASSWORD, activate, username_field
from tests.support.flows import PHONE, default_flows, link_key, sms_code
from tests.support.log_capture import Capture, assert_no_secret_logged_or_stored, ok

pytestmark = pytest.mark.django_db

HARDCODE = "86420"


def test_no_login_flow_logs_or_records_a_secret(
    logs: Capture,
    issued: list[str],
    user: Any,
    api_client: APIClient,
    flows_config: Callable[..., Any],
) -> None:
    flows_config(flows=default_flows(), RESEND_COOLDOWN=0, SEND_LIMIT=None)
    secrets: list[str] = [PASSWORD, HARDCODE]
    anon = APIClient()
    # Identifier verification: email by code, then by link; phone by SMS code.
    ok(api_client.post("/auth/verification/request/", {"field": "email"}))
    key = link_key()
    secrets.append(key)
    ok(api_client.post("/auth/verification/email/confirm/", {"code": "000000"}), 400)
    ok(api_client.post("/auth/verification/email/confirm/", {"code": issued[-1]}))
    ok(anon.post(f"/auth/verification/email/{key}/"))
    ok(api_client.post("/auth/verification/request/", {"field": "phone_number"}))
    ok(api_client.post("/auth/verification/phone_number/confirm/", {"code": sms_code()}))
    # A hardcode, set with the password.
    ok(api_client.post("/auth/hardcode/", {"hardcode": HARDCODE, "password": PASSWORD}), 204)
    for flavour in FLAVOURS:
        # Passwordless: a code by email (a wrong one first, then a resend).
        step1 = ok(anon.post(flavour.login, {"email": "alice@example.com"}))
        token = step1["ephemeral_token"]
        ok(anon.post(flavour.code, {"ephemeral_token": token, "code": "000000"}), 401)
        ok(anon.post(flavour.resend, {"ephemeral_token": token}))
        body = ok(anon.post(flavour.code, {"ephemeral_token": token, "code": issued[-1]}))
        secrets += [token, *map(str, body.values())]
        # Hardcode and a code by SMS.
        step1 = ok(anon.post(flavour.login, {"phone_number": PHONE, "hardcode": HARDCODE}))
        token = step1["ephemeral_token"]
        body = ok(anon.post(flavour.code, {"ephemeral_token": token, "code": sms_code()}))
        secrets += [token, *map(str, body.values())]
        # A decoy: an address nobody can log in with (a malformed code is a wrong one).
        step1 = ok(anon.post(flavour.login, {"email": "nobody@example.com"}))
        secrets.append(step1["ephemeral_token"])
        ok(
            anon.post(flavour.code, {"ephemeral_token": step1["ephemeral_token"], "code": "1234"}),
            401,
        )
    # The password flow with the MFA method on top.
    backup = activate(api_client, "email")
    secrets += backup
    for flavour in FLAVOURS:
        step1 = ok(
            anon.post(flavour.login, {username_field(): user.get_username(), "password": PASSWORD})
        )
        token = step1["ephemeral_token"]
        body = ok(anon.post(flavour.code, {"ephemeral_token": token, "code": issued[-1]}))
        secrets += [token, *map(str, body.values())]

    secrets += issued
    assert len(issued) >= 10 and len(mail.outbox) >= 5 and logs.lines
    assert_no_secret_logged_or_stored(logs, secrets, min_events=20)

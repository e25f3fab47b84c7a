"""No secret reaches a log record or an audit event, in any flow.

Every flow runs with every logger at DEBUG: email, authenticator app, SMS
(console method, DEBUG off), YubiKey (against the loopback validation
server), backup codes, login in both flavours, protected actions,
regeneration and deactivation. Every generated secret is collected (codes,
TOTP seeds, backup codes, YubiKey OTPs, ephemeral tokens, JWTs, authtoken
keys, the password) and searched for in every captured record and in every
MFAEvent row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, PASSWORD, credentials
from tests.support.app import totp_from_uri
from tests.support.log_capture import Capture, assert_no_secret_logged_or_stored, ok
from tests.support.yubikey import FakeValidationServer, make_otp

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000


def test_no_flow_logs_or_records_a_secret(
    logs: Capture,
    issued: list[str],
    user: Any,
    api_client: APIClient,
    trench_auth: Callable[..., Any],
    yubi_settings: Callable[..., Any],
    yubicloud: FakeValidationServer,
) -> None:
    yubi_settings()
    trench_auth(
        methods={
            "sms": {
                "HANDLER": "trench_mfa.backends.console.ConsoleMessageDispatcher",
                "SOURCE_FIELD": "phone_number",
                "DEBUG": False,
            }
        },
        RESEND_COOLDOWN=0,
        SEND_LIMIT=None,
        # Every flow, one address: more emails than one hour allows.
        EMAIL_MAX_PER_ADDRESS=None,
    )
    secrets: list[str] = [PASSWORD]
    anon = APIClient()
    with time_machine.travel(T0, tick=False) as clock:
        # Email: activation (a wrong code first), backup codes.
        ok(api_client.post("/auth/email/activate/"))
        ok(api_client.post("/auth/email/activate/confirm/", {"code": "000000"}), 400)
        backup = ok(api_client.post("/auth/email/activate/confirm/", {"code": issued[-1]}))[
            "backup_codes"
        ]
        secrets += backup
        # Authenticator app: the URI carries the seed. MFA is on now, so a
        # code of the primary (email) confirms each further method.
        ok(api_client.post("/auth/code/request/"))
        uri = ok(api_client.post("/auth/app/activate/", {"code": issued[-1]}))["details"]
        totp = totp_from_uri(uri)
        secrets += [totp.secret, uri]
        ok(api_client.post("/auth/app/activate/confirm/", {"code": totp.now()}))
        secrets.append(totp.now())
        # SMS (console method with DEBUG off).
        ok(api_client.post("/auth/code/request/"))
        ok(api_client.post("/auth/sms/activate/", {"code": issued[-1]}))
        ok(api_client.post("/auth/sms/activate/confirm/", {"code": issued[-1]}))
        # YubiKey, against the loopback validation server.
        otp = make_otp()
        secrets.append(otp)
        ok(api_client.post("/auth/yubi/activate/", {"code": backup.pop()}))
        ok(api_client.post("/auth/yubi/activate/confirm/", {"code": otp}))

        # Logins in both flavours, with each method and a backup code.
        for flavour in FLAVOURS:
            for method in ("email", "app", "sms", "yubi", "backup"):
                clock.shift(31)  # a new TOTP step each time
                step1 = ok(anon.post(flavour.login, credentials(user)))
                token = step1["ephemeral_token"]
                secrets.append(token)
                name = "email" if method == "backup" else method
                if method == "sms":
                    ok(anon.post(flavour.resend, {"ephemeral_token": token, "method": "sms"}))
                ok(
                    anon.post(
                        flavour.code,
                        {
                            "ephemeral_token": token,
                            "code": "000000",
                            "method": name if name != "yubi" else "email",
                        },
                    ),
                    401,
                )
                if method == "backup":
                    code = backup.pop()
                elif method == "app":
                    code = totp.now()
                elif method == "yubi":
                    code = make_otp()
                else:
                    code = issued[-1]
                secrets.append(code)
                body = ok(
                    anon.post(
                        flavour.code, {"ephemeral_token": token, "code": code, "method": name}
                    )
                )
                secrets += [str(v) for v in body.values()]
                # The spent token, replayed: 401.
                ok(anon.post(flavour.code, {"ephemeral_token": token, "code": code}), 401)

        # Protected actions: regenerate, change primary, deactivate each method.
        ok(api_client.post("/auth/code/request/"))
        regenerated = ok(api_client.post("/auth/email/codes/regenerate/", {"code": issued[-1]}))[
            "backup_codes"
        ]
        secrets += regenerated
        clock.shift(31)
        ok(
            api_client.post(
                "/auth/mfa/change-primary-method/", {"method": "app", "code": "000000"}
            ),
            400,
        )
        ok(api_client.post("/auth/code/request/"))
        ok(
            api_client.post(
                "/auth/mfa/change-primary-method/", {"method": "app", "code": issued[-1]}
            ),
            204,
        )
        ok(api_client.post("/auth/email/deactivate/", {"code": regenerated.pop()}), 204)
        ok(api_client.post("/auth/code/request/", {"method": "sms"}))
        ok(api_client.post("/auth/sms/deactivate/", {"code": issued[-1]}), 204)
        yubi_otp = make_otp()
        secrets.append(yubi_otp)
        ok(api_client.post("/auth/yubi/deactivate/", {"code": yubi_otp}), 204)
        clock.shift(31)
        secrets.append(totp.now())
        ok(api_client.post("/auth/app/deactivate/", {"code": totp.now()}), 204)

    secrets += issued
    assert len(issued) >= 8 and logs.lines, "the flows ran and logged something"
    assert_no_secret_logged_or_stored(logs, secrets, min_events=40)

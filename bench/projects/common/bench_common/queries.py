"""SQL queries per request for every endpoint, in one fixed sequence.

The sequence is the same for both packages; each request runs inside
``CaptureQueriesContext`` and its status, statement count (transaction
markers such as BEGIN/COMMIT counted apart) and SQL are kept. A
status other than the expected one is recorded, not hidden, so a package
that answers differently shows up in the table.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench_common.flows import WRONG_BACKUP_CODE, Api, Seed, adapter, mail_code

#: Logged by Django around ``atomic()`` blocks; counted apart from statements.
_TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def _run(
    api: Api, rows: list[dict[str, Any]], name: str, method: str, path: str, data: Any = None
) -> Any:
    with CaptureQueriesContext(connection) as captured:
        response = api.call(method, path, data)
    sql = [q["sql"] for q in captured.captured_queries]
    markers = [q for q in sql if q.split(" ", 1)[0].upper() in _TRANSACTION_CONTROL]
    rows.append(
        {
            "endpoint": name,
            "status": response.status_code,
            "queries": len(sql) - len(markers),
            "transaction_markers": len(markers),
            "sql": sql,
        }
    )
    return response


def _login_step2(api: Api, seed: Seed, rows: list[dict[str, Any]], name: str, code: str) -> Any:
    adapter().reset_state()
    token = api.ephemeral_token(seed)
    return _run(
        api, rows, name, "POST", "/auth/jwt/login/code/", {"ephemeral_token": token, "code": code}
    )


def endpoint_queries(seed: Seed) -> list[dict[str, Any]]:
    """Query counts of every endpoint, login steps first."""
    rows: list[dict[str, Any]] = []
    api = Api()
    adapter().reset_state()
    creds = {"username": seed.username, "password": seed.password}
    _run(api, rows, "login step 1 (JWT)", "POST", "/auth/jwt/login/", creds)
    _login_step2(api, seed, rows, "login step 2, TOTP (JWT)", seed.totp())
    wrong_totp = "000000" if seed.totp() != "000000" else "111111"
    _login_step2(api, seed, rows, "login step 2, wrong TOTP", wrong_totp)
    _login_step2(api, seed, rows, "login step 2, right backup code", seed.backup_codes.pop())
    _login_step2(api, seed, rows, "login step 2, wrong backup code", WRONG_BACKUP_CODE)
    adapter().reset_state()
    _run(api, rows, "login step 1 (authtoken)", "POST", "/auth/token/login/", creds)
    token = api.ephemeral_token(seed)
    _run(
        api,
        rows,
        "login step 2 (authtoken)",
        "POST",
        "/auth/token/login/code/",
        {"ephemeral_token": token, "code": seed.totp()},
    )
    token = api.ephemeral_token(seed)
    _run(
        api,
        rows,
        "login code re-send (new in trench_mfa)",
        "POST",
        "/auth/jwt/login/code/request/",
        {"ephemeral_token": token},
    )

    api.sign_in(seed)
    _run(api, rows, "GET mfa/config/", "GET", "/auth/mfa/config/")
    _run(api, rows, "GET mfa/user-active-methods/", "GET", "/auth/mfa/user-active-methods/")
    _run(
        api, rows, "POST code/request/ (email)", "POST", "/auth/code/request/", {"method": "email"}
    )
    _run(
        api,
        rows,
        "POST email/deactivate/",
        "POST",
        "/auth/email/deactivate/",
        {"code": mail_code()},
    )
    _run(api, rows, "POST email/activate/", "POST", "/auth/email/activate/")
    _run(
        api,
        rows,
        "POST email/activate/confirm/",
        "POST",
        "/auth/email/activate/confirm/",
        {"code": mail_code()},
    )
    adapter().reset_state()
    regenerated = _run(
        api,
        rows,
        "POST app/codes/regenerate/",
        "POST",
        "/auth/app/codes/regenerate/",
        {"code": seed.totp()},
    )
    if regenerated.status_code == 200:
        seed.backup_codes = sorted(regenerated.json()["backup_codes"])
    adapter().reset_state()
    _run(
        api,
        rows,
        "POST mfa/change-primary-method/",
        "POST",
        "/auth/mfa/change-primary-method/",
        {"method": "email", "code": seed.totp()},
    )
    api.call("POST", "/auth/code/request/", {"method": "email"})
    api.call("POST", "/auth/mfa/change-primary-method/", {"method": "app", "code": mail_code()})
    adapter().reset_state()
    return rows

"""Driver run by ``test_install_section.py`` inside the project built from the README.

Usage: ``python walkthrough.py token|jwt`` with the project directory as the
working directory and ``DJANGO_SETTINGS_MODULE`` naming its settings. It
walks activate, confirm, login and code through Django's test client
against the project's own settings and URLs, reading each code from what the
README's ``EMAIL_BACKEND`` prints, then logs in with a wrong password until
the login throttle answers. It prints one JSON object per step (``step``,
``status``, ``body``) for the test to check; it asserts nothing itself.

With ``token`` it first makes ``rest_framework_simplejwt`` unimportable:
the README's minimal setup must work without the ``jwt`` extra.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from typing import Any

_CODE = re.compile(r"Your verification code is: ([0-9]{6})")
USERNAME, PASSWORD = "alice", "a-long-passphrase"


def main(flavour: str) -> None:
    """Run the walk-through for ``flavour`` (``token`` or ``jwt``)."""
    sys.path.insert(0, os.getcwd())
    if flavour == "token":
        # ``None`` in sys.modules makes every import of the package fail.
        sys.modules["rest_framework_simplejwt"] = None  # type: ignore[assignment]
    import django

    django.setup()
    from django.test import Client

    # The host runserver would see: DEBUG allows it without ALLOWED_HOSTS.
    client = Client(HTTP_HOST="127.0.0.1")
    login = "/auth/jwt/login/" if flavour == "jwt" else "/auth/token/login/"
    credentials = {"username": USERNAME, "password": PASSWORD}

    def post(step: str, path: str, body: dict[str, Any] | None, auth: str = "") -> tuple[Any, str]:
        printed = io.StringIO()
        headers = {"Authorization": auth} if auth else {}
        with contextlib.redirect_stdout(printed):
            response = client.post(path, body, content_type="application/json", headers=headers)
        answer = response.json()
        print(json.dumps({"step": step, "status": response.status_code, "body": answer}))
        return answer, printed.getvalue()

    def code_in(printed: str) -> str:
        match = _CODE.search(printed)
        return match.group(1) if match else ""

    def auth_header(tokens: dict[str, Any]) -> str:
        if flavour == "jwt":
            return f"Bearer {tokens.get('access', '')}"
        return f"Token {tokens.get('auth_token', '')}"

    tokens, _ = post("login without MFA", login, credentials)
    auth = auth_header(tokens)
    _, printed = post("activate", "/auth/email/activate/", None, auth)
    post("confirm", "/auth/email/activate/confirm/", {"code": code_in(printed)}, auth)
    step1, printed = post("login with MFA", login, credentials)
    ephemeral = step1.get("ephemeral_token", "")
    tokens, _ = post(
        "code", f"{login}code/", {"ephemeral_token": ephemeral, "code": code_in(printed)}
    )
    methods = client.get(
        "/auth/mfa/user-active-methods/", headers={"Authorization": auth_header(tokens)}
    )
    print(json.dumps({"step": "methods", "status": methods.status_code, "body": methods.json()}))
    wrong = {"username": USERNAME, "password": "not-the-password"}
    # Up to two windows of the rate: a minute that ends during the run
    # starts a fresh count.
    for _ in range(20):
        answer, _ = post("wrong password", login, wrong)
        if "retry_after" in answer:
            break


if __name__ == "__main__":
    main(sys.argv[1])

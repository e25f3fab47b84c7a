"""``create_demo_user --reset`` puts the demo back as ``make run`` set it up.

After a reset the demo user has no MFA (the password alone logs in), its
hardcode is the README's again, its address and number are confirmed, the
send caps of that address and number are cleared, and the ``admin``
superuser logs in to the admin. ``testproject/manage.py`` runs the command
under the demo's settings whatever ``DJANGO_SETTINGS_MODULE`` says, so the
README's reset command works as printed even after a test run exported
other settings.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from testproject.accounts.management.commands import create_demo_user as demo
from testproject.manage import DEMO_SETTINGS, settings_module
from tests.conftest import last_code
from trench_mfa.models import MFAMethod, SendQuota
from trench_mfa.services import hardcode
from trench_mfa.services import identifiers as verification
from trench_mfa.state.send_limits import recipient_key

CREDENTIALS = {"username": demo.USERNAME, "password": demo.PASSWORD}
MANAGE = Path(settings.REPO_ROOT) / "testproject" / "manage.py"


def _demo_user() -> Any:
    return get_user_model()._default_manager.get(username=demo.USERNAME)


def _mess_up_the_demo() -> str:
    """What a walk-through leaves: email MFA on (its code counted against the address's
    cap), another hardcode and address; a capped number."""
    client = APIClient()
    token = client.post("/auth/token/login/", CREDENTIALS).json()["auth_token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/auth/email/activate/").status_code == 200
    confirmed = client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert confirmed.status_code == 200
    # Turning MFA on replaced the key; the answer carries the new one.
    token = confirmed.json()["auth_token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    user = _demo_user()
    hardcode.store_hardcode(user, "9753")
    user.email = "someone-else@example.com"
    user.save()
    # The new address gets its verification code (the login code stays
    # bound to the activated address).
    assert client.post("/auth/verification/request/", {"field": "email"}).status_code == 200
    SendQuota.objects.create(key=recipient_key("sms", demo.PHONE_NUMBER), sent_at=[1, 2, 3])
    return str(token)


def test_reset_turns_mfa_off_and_restores_hardcode_and_identifiers(
    demo_settings: None, db: None
) -> None:
    call_command("create_demo_user", stdout=StringIO())
    old_token = _mess_up_the_demo()
    assert "ephemeral_token" in APIClient().post("/auth/token/login/", CREDENTIALS).json()

    out = StringIO()
    call_command("create_demo_user", "--reset", stdout=out)

    user = _demo_user()
    assert not MFAMethod.objects.filter(user=user).exists()
    assert set(APIClient().post("/auth/token/login/", CREDENTIALS).json()) == {"auth_token"}
    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Token {old_token}")
    assert old.get("/auth/mfa/user-active-methods/").status_code == 401
    assert hardcode.check_hardcode(user, demo.HARDCODE)
    assert (user.email, user.phone_number) == (demo.EMAIL, demo.PHONE_NUMBER)
    assert verification.is_confirmed(user, "email")
    assert verification.is_confirmed(user, "phone_number")
    # The demo's address and number may be written to again; the verification
    # code sent to the address the walk-through set stays counted against it.
    demo_keys = {
        recipient_key("email", demo.EMAIL),
        recipient_key("sms", demo.PHONE_NUMBER),
    }
    assert not SendQuota.objects.filter(key__in=demo_keys).exists()
    assert SendQuota.objects.filter(key=recipient_key("email", "someone-else@example.com"))
    assert f"hardcode: {demo.HARDCODE}" in out.getvalue()


def test_the_admin_user_logs_in_to_the_admin(demo_settings: None, db: None) -> None:
    call_command("create_demo_user", "--reset", stdout=StringIO())
    client = Client()
    assert client.login(username=demo.ADMIN_USERNAME, password=demo.ADMIN_PASSWORD)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"Site administration" in response.content


def test_manage_py_runs_the_command_under_the_demo_settings() -> None:
    foreign = {"DJANGO_SETTINGS_MODULE": "testproject.settings_email_user"}
    assert settings_module(["manage.py", "create_demo_user", "--reset"], foreign) == DEMO_SETTINGS
    assert settings_module(["manage.py", "migrate"], foreign) == foreign["DJANGO_SETTINGS_MODULE"]
    assert settings_module(["manage.py", "migrate"], {}) == DEMO_SETTINGS


@pytest.mark.skipif(
    settings.AUTH_USER_MODEL != "accounts.User",
    reason="one leg is enough: the subprocess uses the demo's settings, not this leg's",
)
def test_the_readme_reset_command_works_whatever_settings_the_shell_exports(
    tmp_path: Path,
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"TEST_DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    # A database of this test's own, never the demo's db.sqlite3.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'demo.sqlite3'}"

    def manage(*args: str, **extra: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
            [sys.executable, str(MANAGE), *args],
            env={**env, **extra},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    # As the README prints it, with another user model's settings exported.
    out = manage(
        "create_demo_user", "--reset", DJANGO_SETTINGS_MODULE="testproject.settings_email_user"
    )
    assert f"settings: {DEMO_SETTINGS}" in out
    assert f"hardcode: {demo.HARDCODE} (email and phone confirmed)" in out

    # closing(): sqlite3's own context manager commits but never closes.
    with closing(sqlite3.connect(tmp_path / "demo.sqlite3")) as db:
        users = dict(db.execute("SELECT username, is_superuser FROM accounts_user").fetchall())
        assert users == {demo.USERNAME: 0, demo.ADMIN_USERNAME: 1}
        (demo_id,) = db.execute(
            "SELECT id FROM accounts_user WHERE username = ?", [demo.USERNAME]
        ).fetchone()
        assert db.execute(
            "SELECT count(*) FROM trench_mfa_hardcode WHERE user_id = ?", [demo_id]
        ).fetchone() == (1,)
        confirmed = db.execute(
            "SELECT field FROM trench_mfa_verifiedidentifier "
            "WHERE user_id = ? AND confirmed_at IS NOT NULL",
            [demo_id],
        ).fetchall()
        assert sorted(field for (field,) in confirmed) == ["email", "phone_number"]

"""Play the scripted requests against one package and print what it answered.

Run as ``python driver.py <package> <variant>`` with the interpreter of that
package's virtualenv: ``trench`` (django-trench 0.3.1) or ``mfa``
(trench_mfa). The same file drives both, so the requests cannot differ; only
the dotted paths of the package (``INSTALLED_APPS``, ``include()``,
``HANDLER``) change, as they do for a project that switches.

Each scenario starts on an empty database at the same frozen instant; the
clock moves a few seconds per request, and to the next TOTP step before an
authenticator code is read, so replay guards and back-offs see what a person
typing would cause. Secrets in answers (tokens, codes, otpauth URIs) are
replaced by placeholders before the answers are printed as JSON lines.

Only the standard library, Django, DRF, pyotp and time-machine are used: the
file runs inside django-trench's virtualenv too.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scenarios import SCENARIOS, VARIANTS, Step  # type: ignore[import-not-found]

PASSWORD = "correct-horse-battery-staple"
#: A multiple of 300 s and of 30 s: email codes (300 s TOTP steps in
#: django-trench) and authenticator codes start a fresh step here.
START = dt.datetime(2026, 1, 5, 9, 0, 0, tzinfo=dt.UTC)
#: Seconds the clock moves after each request (past trench_mfa's back-off
#: after one or two wrong codes, as a person retyping would).
TICK = 5

PACKAGES: dict[str, dict[str, Any]] = {
    "trench": {
        "app": "trench",
        "urls": ("trench.urls", "trench.urls.jwt", "trench.urls.authtoken"),
        "email": "trench.backends.basic_mail.SendMailMessageDispatcher",
        "totp": "trench.backends.application.ApplicationMessageDispatcher",
    },
    "mfa": {
        "app": "trench_mfa",
        "urls": ("trench_mfa.urls", "trench_mfa.urls.jwt", "trench_mfa.urls.authtoken"),
        "email": "trench_mfa.backends.email.EmailMessageDispatcher",
        "totp": "trench_mfa.backends.application.ApplicationMessageDispatcher",
    },
}


def configure(package: str, variant: str, database: Path) -> None:
    """Django settings of a project that uses ``package``: only its paths differ."""
    from django.conf import settings

    names = PACKAGES[package]
    settings.configure(
        SECRET_KEY="differential-only-not-a-secret-0123456789abcdefghijklmnop",
        DEBUG=False,
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        TIME_ZONE="UTC",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}},
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            "rest_framework.authtoken",
            names["app"],
        ],
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        # The test client keeps a session; no sessions table is needed for it.
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        ROOT_URLCONF=__name__,
        TEMPLATES=[
            {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        ],
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "rest_framework.authentication.TokenAuthentication",
            ],
        },
        TRENCH_AUTH={
            "MFA_METHODS": {
                "email": {
                    "VERBOSE_NAME": "email",
                    "VALIDITY_PERIOD": 300,
                    "HANDLER": names["email"],
                    "SOURCE_FIELD": "email",
                },
                "app": {
                    "VERBOSE_NAME": "app",
                    "VALIDITY_PERIOD": 30,
                    "USES_THIRD_PARTY_CLIENT": True,
                    "HANDLER": names["totp"],
                },
            },
            "BACKUP_CODES_QUANTITY": 5,
            "APPLICATION_ISSUER_NAME": "differential",
            **VARIANTS[variant],
        },
    )


def _urlpatterns(package: str) -> list[Any]:
    from django.urls import include, path

    manage, jwt, authtoken = PACKAGES[package]["urls"]
    return [
        path("auth/", include(manage)),
        path("auth/jwt/", include(jwt)),
        path("auth/token/", include(authtoken)),
    ]


class Player:
    """Plays one scenario's steps and remembers what later steps refer to."""

    def __init__(self, traveller: Any) -> None:
        from rest_framework.test import APIClient

        self.traveller = traveller
        self.client = APIClient()
        self.users: dict[str, Any] = {}
        self.secret = ""
        self.backup_codes: list[str] = []
        self.token = ""
        #: Every authtoken key the answers gave, oldest first.
        self.keys: list[str] = []

    # Values that later steps refer to ("$email", "$totp", ...).

    def _email_code(self) -> str:
        from django.core import mail

        for message in reversed(mail.outbox):
            found = re.search(r"\b(\d{6})\b", str(message.body))
            if found:
                return found.group(1)
        return "999999"

    def _totp(self) -> str:
        import pyotp

        # The next 30 s step: a code is never read twice in one step.
        self.traveller.shift(30 - int(time.time()) % 30 + 1)
        return str(pyotp.TOTP(self.secret).now())

    def resolve(self, value: Any) -> Any:
        """Replace ``$name`` references by this package's current values."""
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if not isinstance(value, str) or not value.startswith("$"):
            return value
        if value == "$email":
            return self._email_code()
        if value == "$totp":
            return self._totp()
        if value == "$backup":
            return self.backup_codes.pop(0) if self.backup_codes else "nobackup"
        if value == "$token":
            return self.token
        if value == "$wrong":
            # Six digits that are neither the email code nor the TOTP code.
            taken = {self._email_code(), self.secret and self._peek_totp()}
            return next(c for c in ("000000", "111111", "222222") if c not in taken)
        raise ValueError(f"unknown reference {value}")

    def _peek_totp(self) -> str:
        import pyotp

        return str(pyotp.TOTP(self.secret).now())

    def remember(self, body: Any) -> None:
        """Keep the secrets of an answer for the steps that refer to them."""
        if not isinstance(body, dict):
            return
        details = body.get("details")
        if isinstance(details, str) and details.startswith("otpauth://"):
            found = re.search(r"secret=([A-Z2-7]+)", details)
            self.secret = found.group(1) if found else ""
        if isinstance(body.get("backup_codes"), list) and body["backup_codes"]:
            self.backup_codes = list(body["backup_codes"])
        if isinstance(body.get("ephemeral_token"), str):
            self.token = body["ephemeral_token"]
        if isinstance(body.get("auth_token"), str) and body["auth_token"] not in self.keys:
            self.keys.append(body["auth_token"])

    def play(self, step: Step) -> dict[str, Any]:
        """Send one request; the answer with its secrets replaced."""
        from django.contrib.auth import get_user_model

        if step.op == "user":
            self.users[step.user] = get_user_model().objects.create_user(
                username=step.user,
                email=f"{step.user}@example.com",
                password=PASSWORD,
                is_active=step.body.get("is_active", True),
            )
            return {}
        if step.op == "wait":
            self.traveller.shift(step.body["seconds"])
            return {}
        user = self.users.get(step.user) if step.user else None
        if step.key is None:
            self.client.credentials()
            self.client.force_authenticate(user=user)
        else:
            key = self.keys[0] if step.key == "$first_key" else self.keys[-1]
            self.client.force_authenticate(user=None)
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        body = self.resolve(step.body)
        if step.op == "login":
            body = {"username": step.user, "password": PASSWORD, **body}
        response = (
            self.client.get(f"/{step.path}")
            if step.op == "get"
            else self.client.post(f"/{step.path}", body, format="json")
        )
        self.traveller.shift(TICK)
        try:
            answer = json.loads(response.content) if response.content else None
        except ValueError:
            answer = {"not_json": response.get("Content-Type", "")}
        self.remember(answer)
        return {"status": response.status_code, "body": placeholders(answer)}


_SECRET_KEYS = {"ephemeral_token", "access", "refresh", "auth_token", "qr_code"}


def placeholders(body: Any) -> Any:
    """The answer with every secret value replaced by a placeholder."""
    if isinstance(body, list):
        return [placeholders(item) for item in body]
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key in _SECRET_KEYS and isinstance(value, str):
            out[key] = f"<{key}>"
        elif key == "backup_codes" and isinstance(value, list):
            out[key] = f"<{len(value)} codes>"
        elif key == "details" and isinstance(value, str) and value.startswith("otpauth://"):
            out[key] = "<otpauth uri>"
        else:
            out[key] = placeholders(value)
    return out


def main() -> None:
    """Run every scenario of the variant and print one JSON line per step."""
    package, variant = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as scratch:
        configure(package, variant, Path(scratch) / "db.sqlite3")
        import django

        django.setup()
        global urlpatterns
        urlpatterns = _urlpatterns(package)
        import time_machine
        from django.core import mail
        from django.core.cache import cache
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        for scenario in SCENARIOS:
            if variant not in scenario.variants:
                continue
            call_command("flush", verbosity=0, interactive=False)
            cache.clear()
            mail.outbox = []
            with time_machine.travel(START, tick=False) as traveller:
                player = Player(traveller)
                for step in scenario.steps:
                    answer = player.play(step)
                    if step.label:
                        case = f"{scenario.name}: {step.label}"
                        line = {"case": case, "variant": variant, **answer}
                        sys.stdout.write(json.dumps(line, sort_keys=True) + "\n")


#: Filled in by main() once the settings exist (include() imports the views).
urlpatterns: list[Any] = []

if __name__ == "__main__":
    main()

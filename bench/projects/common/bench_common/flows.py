"""Package-neutral REST flows over Django's test client.

Both packages expose the same paths and bodies, so the same calls drive
either; codes come from the authenticator secret (pyotp) or from the last
email in the locmem outbox.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

USERNAME = "alice"
PASSWORD = "bench-pass-2026-correct-horse"  # noqa: S105 - a fixed bench fixture
EMAIL = "alice@example.com"
#: Well-formed for both packages (12 characters of Crockford base32, which is
#: also a subset of django-trench's alphabet) and never issued.
WRONG_BACKUP_CODE = "abcd2345efgh"
_MAIL_CODE = re.compile(r"\b(\d{6})\b")


def adapter() -> ModuleType:
    """The site's adapter module (``settings.BENCH_ADAPTER``)."""
    return importlib.import_module(settings.BENCH_ADAPTER)


class UnexpectedStatus(RuntimeError):
    """A request answered with another status than the flow expects."""


@dataclass
class Seed:
    """The seeded user's credentials and secrets (known to the client only)."""

    username: str = USERNAME
    password: str = PASSWORD
    secret: str = ""
    backup_codes: list[str] = field(default_factory=list)

    def totp(self) -> str:
        """The authenticator app's current code."""
        return pyotp.TOTP(self.secret).now()


class Api:
    """JSON calls to the mounted package with Django's test client."""

    def __init__(self) -> None:
        self.client = Client()
        self.access: str | None = None

    def call(self, method: str, path: str, data: Any = None, *, expect: int | None = None) -> Any:
        """Send one request; check the status when ``expect`` is given."""
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.access}"} if self.access else {}
        if method == "GET":
            response = self.client.get(path, **headers)
        else:
            response = self.client.post(
                path, data or {}, content_type="application/json", **headers
            )
        if expect is not None and response.status_code != expect:
            body = response.content[:300].decode("utf-8", "replace")
            raise UnexpectedStatus(
                f"{method} {path}: {response.status_code} (want {expect}) {body}"
            )
        return response

    def step1(self, username: str, password: str) -> Any:
        """Login step 1 (JWT flavour)."""
        return self.call("POST", "/auth/jwt/login/", {"username": username, "password": password})

    def step2(self, token: str, code: str) -> Any:
        """Login step 2 (JWT flavour)."""
        return self.call("POST", "/auth/jwt/login/code/", {"ephemeral_token": token, "code": code})

    def ephemeral_token(self, seed: Seed) -> str:
        """Run step 1 and return the ephemeral token."""
        response = self.step1(seed.username, seed.password)
        if response.status_code != 200 or "ephemeral_token" not in response.json():
            raise UnexpectedStatus(f"step 1: {response.status_code} {response.content[:300]!r}")
        return str(response.json()["ephemeral_token"])

    def sign_in(self, seed: Seed) -> None:
        """A full login whose access token authenticates later calls."""
        self.access = None
        adapter().reset_state()
        token = self.ephemeral_token(seed)
        response = self.call(
            "POST",
            "/auth/jwt/login/code/",
            {"ephemeral_token": token, "code": seed.totp()},
            expect=200,
        )
        self.access = response.json()["access"]


def mail_code() -> str:
    """The code in the newest email of the locmem outbox."""
    outbox = getattr(mail, "outbox", [])
    if not outbox:
        raise UnexpectedStatus("no email was sent")
    match = _MAIL_CODE.search(outbox[-1].body)
    if match is None:
        raise UnexpectedStatus("no 6-digit code in the email")
    return match.group(1)


def fresh_site() -> tuple[Seed, Api]:
    """A new schema (a SQLite file is deleted first) with the seeded user, and a client."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        Path(db["NAME"]).unlink(missing_ok=True)
    call_command("migrate", verbosity=0, interactive=False)
    return seed_user(), Api()


def seed_user() -> Seed:
    """Create alice with the app (primary) and email methods, through the API.

    The app method is activated first, as a user who picks the app first
    would: both packages then make it primary and return its backup codes.
    """
    seed = Seed()
    get_user_model().objects.create_user(USERNAME, EMAIL, PASSWORD)
    api = Api()
    response = api.call(
        "POST", "/auth/jwt/login/", {"username": USERNAME, "password": PASSWORD}, expect=200
    )
    api.access = response.json()["access"]
    uri = api.call("POST", "/auth/app/activate/", expect=200).json()["details"]
    seed.secret = parse_qs(urlparse(uri).query)["secret"][0]
    confirmed = api.call("POST", "/auth/app/activate/confirm/", {"code": seed.totp()}, expect=200)
    seed.backup_codes = sorted(confirmed.json()["backup_codes"])
    api.call("POST", "/auth/email/activate/", expect=200)
    api.call("POST", "/auth/email/activate/confirm/", {"code": mail_code()}, expect=200)
    adapter().reset_state()
    return seed

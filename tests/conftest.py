"""Shared fixtures: users, API clients, mail helpers.

Tests run against testproject's settings. Password hashing uses MD5 for
speed unless a test asks for the real hashers (``real_hashers``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import translation
from rest_framework.test import APIClient

from testproject.mail import mail_settings

PASSWORD = "correct-horse-battery-staple"

#: Fixtures shared across folders (see tests/README.md, "Where fixtures live").
pytest_plugins = [
    "tests.support.app",
    "tests.support.flows",
    "tests.support.log_capture",
    "tests.support.sms_stubs",
    "tests.support.smtp",
    "tests.support.throttling",
    "tests.support.yubikey",
]


def pytest_report_header(config: pytest.Config) -> str:
    """Name the user model under test (``make test`` runs the suite with three)."""
    model = get_user_model()
    pk = model._meta.pk
    return (
        f"user model: {model._meta.label} (USERNAME_FIELD={model.USERNAME_FIELD!r}, "
        f"pk {type(pk).__name__})"
    )


def use_mail(settings: Any, backend: str, **options: Any) -> None:
    """Send the test's email through ``backend`` with SMTP ``options`` (``host``, ``port``, ...).

    Sets ``MAILERS`` on Django 6.1+, ``EMAIL_*`` before (testproject/mail.py).
    """
    for name, value in mail_settings(backend, **options).items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _fast_hashers(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    use_mail(settings, "django.core.mail.backends.locmem.EmailBackend")


@pytest.fixture(autouse=True)
def _no_backoff_and_fresh_cache(settings: Any) -> Iterator[None]:
    """Back-off off, and an empty cache (DRF's login throttles count in it).

    Many tests send a wrong code and then the right one within a second,
    which the default back-off (1 s after the first failure) refuses; the
    back-off and lockout are tested with their defaults in ``tests/throttling``
    (fixture ``default_backoff``). The lockout threshold stays in force.
    """
    from django.core.cache import cache

    settings.TRENCH_AUTH = {**settings.TRENCH_AUTH, "THROTTLE_FACTOR": 0}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _postgres_marker(request: pytest.FixtureRequest) -> None:
    """A test marked ``postgres`` is skipped on any other database.

    SQLite serialises writers and would hide the races these tests look for;
    the PostgreSQL leg of ``make test`` (tests/legs.sh) runs them.
    """
    if request.node.get_closest_marker("postgres") is not None:
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")


@pytest.fixture(autouse=True)
def _fresh_sms_outbox() -> Iterator[None]:
    """Each test starts with an empty in-memory SMS outbox that sends."""
    from tests.support import sms_outbox

    sms_outbox.sent.clear()
    sms_outbox.fail_next = 0
    yield
    sms_outbox.sent.clear()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test ends in ``LANGUAGE_CODE``.

    LocaleMiddleware activates the client's language for the thread and never
    deactivates it, so after a request with ``Accept-Language: de`` a later
    test's management command or template would answer in German.
    """
    yield
    translation.deactivate()


@pytest.fixture
def no_login_throttle(settings: Any) -> None:
    """No login step-1 rate: for tests that log one user in many times a minute."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {}}


@pytest.fixture
def real_hashers(settings: Any) -> None:
    """Django's default password hashers (PBKDF2 first)."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]


def username_field() -> str:
    """The ``USERNAME_FIELD`` of the user model under test (the login field's name)."""
    return str(get_user_model().USERNAME_FIELD)


def has_user_field(name: str) -> bool:
    """Whether the user model under test has a field called ``name``."""
    return any(f.name == name for f in get_user_model()._meta.get_fields())


def login_body(login: str, password: str = PASSWORD) -> dict[str, str]:
    """A login step 1 body for any user model: ``{USERNAME_FIELD: login, "password": ...}``."""
    return {username_field(): login, "password": password}


def credentials(user: Any, password: str = PASSWORD) -> dict[str, str]:
    """``user``'s login body: ``{USERNAME_FIELD: user.get_username(), "password": password}``."""
    return login_body(user.get_username(), password)


@pytest.fixture
def user_factory(db: None) -> Callable[..., Any]:
    """Create users of any of the test user models.

    ``user_factory(username="x", email=..., phone_number=...)``. ``username``
    names the user; on a model without a ``username`` field it derives the
    (unique) email address instead: ``x@example.com``, or ``x`` itself when it
    already looks like an address, unless ``email`` is given.
    """
    counter = iter(range(1, 10**6))

    def make(**fields: Any) -> Any:
        n = next(counter)
        name = fields.pop("username", f"user{n}")
        if has_user_field("username"):
            fields["username"] = name
            fields.setdefault("email", f"user{n}@example.com")
        else:
            fields.setdefault("email", name if "@" in name else f"{name}@example.com")
        password = fields.pop("password", PASSWORD)
        blank_login = not fields[username_field()]
        if blank_login:
            # An email-only model refuses a blank login at creation; tests of
            # "a user without an address" still need one, so blank it after.
            fields[username_field()] = f"user{n}@example.com"
        user = get_user_model().objects.create_user(password=password, **fields)
        if blank_login:
            setattr(user, username_field(), "")
            user.save(update_fields=[username_field()])
        return user

    return make


@pytest.fixture
def user(user_factory: Callable[..., Any]) -> Any:
    """A plain active user without MFA."""
    return user_factory(username="alice", email="alice@example.com", phone_number="+48600100200")


@pytest.fixture
def anon_client() -> APIClient:
    """An unauthenticated API client."""
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[Any], APIClient]:
    """An API client authenticated as the given user (force_authenticate)."""

    def make(u: Any) -> APIClient:
        c = APIClient()
        c.force_authenticate(u)
        return c

    return make


@pytest.fixture
def api_client(user: Any, client_for: Callable[[Any], APIClient]) -> APIClient:
    """An API client authenticated as ``user``."""
    return client_for(user)


def last_code(outbox: list[Any] | None = None) -> str:
    """The 6-digit code in the last email sent."""
    messages = outbox if outbox is not None else mail.outbox
    match = re.search(r"\b([0-9]{6})\b", messages[-1].body)
    assert match, messages[-1].body
    return match.group(1)


#: What ``email_mfa_user`` and ``two_email_user`` give: (user, backup codes).
ActivatedUser = tuple[Any, list[str]]


@pytest.fixture
def email_mfa_user(user: Any, api_client: APIClient) -> Iterator[ActivatedUser]:
    """``user`` with the email method active (primary); yields (user, backup codes)."""
    assert api_client.post("/auth/email/activate/").status_code == 200
    response = api_client.post("/auth/email/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200, response.content
    mail.outbox.clear()
    yield user, response.json()["backup_codes"]


# --- Shared helpers for the foundation suite --------------------------------

#: A second email-like method: same handler and address, another name.
EMAIL2 = {
    "HANDLER": "trench_mfa.backends.email.EmailMessageDispatcher",
    "SOURCE_FIELD": "email",
}


@pytest.fixture
def trench_auth(settings: Any) -> Callable[..., dict[str, Any]]:
    """Replace ``TRENCH_AUTH`` with the current dict plus overrides.

    ``trench_auth(methods={"email2": EMAIL2}, CONFIRM_DISABLE_WITH_CODE=False)``
    builds a new dict (the project's is never mutated); calls accumulate.
    ``methods`` entries are added to the current methods, ``replace_methods``
    replaces them.
    """
    from django.conf import settings as django_settings

    def configure(
        *,
        methods: dict[str, Any] | None = None,
        replace_methods: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> dict[str, Any]:
        base = django_settings.TRENCH_AUTH
        new = {**base, **overrides}
        if replace_methods is not None:
            new["MFA_METHODS"] = dict(replace_methods)
        elif methods is not None:
            new["MFA_METHODS"] = {**base["MFA_METHODS"], **methods}
        settings.TRENCH_AUTH = new
        return new

    return configure


class Flavour:
    """One login flavour (``urls.jwt`` or ``urls.authtoken``) and its token shape."""

    def __init__(self, name: str, base: str, token_keys: set[str]) -> None:
        self.name = name
        self.base = base
        self.token_keys = token_keys

    def __repr__(self) -> str:
        return self.name

    @property
    def login(self) -> str:
        """Step 1 URL."""
        return f"{self.base}login/"

    @property
    def code(self) -> str:
        """Step 2 URL."""
        return f"{self.base}login/code/"

    @property
    def resend(self) -> str:
        """Code re-send URL."""
        return f"{self.base}login/code/request/"

    def authorization(self, body: dict[str, Any]) -> str:
        """The ``Authorization`` header value for the tokens in ``body``."""
        if self.name == "jwt":
            return f"Bearer {body['access']}"
        return f"Token {body['auth_token']}"


FLAVOURS = (
    Flavour("jwt", "/auth/jwt/", {"refresh", "access"}),
    Flavour("token", "/auth/token/", {"auth_token"}),
)


@pytest.fixture(params=FLAVOURS, ids=lambda f: f.name)
def flavour(request: pytest.FixtureRequest) -> Flavour:
    """Each login flavour in turn."""
    return request.param  # type: ignore[no-any-return]


def start_activation(client: APIClient, name: str, code: str | None = None) -> Any:
    """``POST <name>/activate/``; the response (not checked).

    When the user already has MFA, adding a method needs a current code of
    the primary method: ``code``, or else one requested
    with ``code/request/`` and read from the mail (an email-like primary).
    """
    response = client.post(f"/auth/{name}/activate/", {"code": code} if code else {})
    if code is None and response.status_code == 400:
        if response.json().get("error_code") == "otp_code_missing":
            assert client.post("/auth/code/request/").status_code == 200
            response = client.post(f"/auth/{name}/activate/", {"code": last_code()})
    return response


def activate(client: APIClient, name: str = "email", code: str | None = None) -> list[str]:
    """Activate and confirm ``name`` through the API; return the backup codes.

    ``code``: a code of the primary method, when the user has MFA already
    (see :func:`start_activation`).
    """
    response = start_activation(client, name, code)
    assert response.status_code == 200, response.content
    response = client.post(f"/auth/{name}/activate/confirm/", {"code": last_code()})
    assert response.status_code == 200, response.content
    return response.json()["backup_codes"]  # type: ignore[no-any-return]


def start_login(client: APIClient, flavour: Flavour, user: Any) -> dict[str, Any]:
    """Login step 1 with the right password; return the JSON body (asserts 200)."""
    response = client.post(flavour.login, credentials(user))
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


#: API.md's error table: django-trench's messages, kept verbatim.
MESSAGES = {
    "code_invalid_or_expired": "Code invalid or expired.",
    "otp_code_missing": "OTP code not provided.",
    "mfa_method_does_not_exist": "Requested MFA method does not exist.",
    "new_primary_method_inactive": "MFA Method selected as new primary method is not active",
    "method_already_active": "MFA method already active.",
    "deactivation_of_primary": "Deactivation of MFA method that is set as primary is not allowed.",
    "not_enabled": "2FA is not enabled.",
    "invalid_token": "Invalid or expired token.",
    "invalid_code": "Invalid or expired code.",
    "unauthenticated": "Unable to login with provided credentials.",
    "backup_codes_regeneration_disabled": "Backup codes regeneration is not allowed.",
}


#: Every endpoint of method management, as (client method, path): none answers anonymously.
MANAGEMENT_ENDPOINTS = [
    ("post", "/auth/email/activate/"),
    ("post", "/auth/email/activate/confirm/"),
    ("post", "/auth/email/deactivate/"),
    ("post", "/auth/email/codes/regenerate/"),
    ("post", "/auth/code/request/"),
    ("get", "/auth/mfa/user-active-methods/"),
    ("post", "/auth/mfa/change-primary-method/"),
    ("post", "/auth/token/logout/"),
]


def error_of(response: Any) -> tuple[str, str]:
    """(error code, message) of an error answer, in any of django-trench's shapes.

    The envelope carries ``error_code``; a field error (``{"code": [msg]}``)
    or a bare list (``[msg]``) carries it as the ``ErrorDetail.code`` of its
    message, which DRF's test client keeps in ``response.data``.
    """
    body = response.json()
    if isinstance(body, dict) and "error_code" in body:
        return body["error_code"], body["error"]
    data = response.data
    messages = data if isinstance(data, list) else next(iter(data.values()))
    return str(messages[0].code), str(messages[0])


def assert_error(response: Any, status: int, code: str, message: str | None = None) -> None:
    """Assert the status, error code and (known) message of an error answer.

    The shape (envelope or field error) is django-trench's at each endpoint,
    which tests/differential checks; here any shape is read.
    """
    assert response.status_code == status, response.content
    found, text = error_of(response)
    assert found == code, response.content
    expected = message if message is not None else MESSAGES.get(code)
    if expected is not None:
        assert text == expected, response.content


def assert_field_error(response: Any, field: str) -> None:
    """Assert a 400 DRF field error on ``field``."""
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body and isinstance(body[field], list), body


@pytest.fixture
def no_resend_cooldown(trench_auth: Callable[..., dict[str, Any]]) -> None:
    """``RESEND_COOLDOWN`` 0: the test sends codes back to back."""
    trench_auth(RESEND_COOLDOWN=0)


@pytest.fixture
def email2_configured(trench_auth: Callable[..., dict[str, Any]]) -> None:
    """``email2`` (:data:`EMAIL2`) among the configured methods, not activated by anyone."""
    trench_auth(methods={"email2": EMAIL2})


@pytest.fixture
def two_email_user(
    email_mfa_user: ActivatedUser, api_client: APIClient, email2_configured: None
) -> ActivatedUser:
    """``user`` with ``email`` (primary) and ``email2`` active; (user, backup codes)."""
    assert activate(api_client, "email2") == []
    mail.outbox.clear()
    return email_mfa_user


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every one-time code the server generates, seen where it is created.

    Also catches codes that were never delivered (failed or queued sends).
    """
    from trench_mfa.state import codes

    seen: list[str] = []
    real = codes.issue_code

    def spy(*args: Any, **kwargs: Any) -> str:
        code = real(*args, **kwargs)
        seen.append(code)
        return code

    monkeypatch.setattr(codes, "issue_code", spy)
    return seen

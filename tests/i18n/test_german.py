"""German answers (``Accept-Language: de``) of the lockout, login flows,
identifier verification, emails, the admin and the support commands."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command, load_command_class
from django.utils import translation
from rest_framework import serializers
from rest_framework.test import APIClient

from tests.conftest import PASSWORD, activate, assert_error, credentials, last_code
from trench_mfa.conf import mfa_settings
from trench_mfa.models import EventType, MFAEvent, MFAMethod
from trench_mfa.services import identifiers

DE = {"HTTP_ACCEPT_LANGUAGE": "de"}
LOGIN = "/auth/jwt/login/"
LOGIN_CODE = "/auth/jwt/login/code/"
REQUEST = "/auth/verification/request/"


@pytest.fixture
def email_flows(trench_auth: Callable[..., Any]) -> Callable[..., Any]:
    """Login flows on the email address only; ``email_flows(flows)`` picks the flows."""

    def configure(flows: list[tuple[str, ...]]) -> None:
        trench_auth(
            FLOWS=flows,
            IDENTIFIERS={"email": {"METHOD": "email", "CONFIRMED_ON_CREATE": False}},
            VERIFICATION_LINK_URL="https://app.example.com/confirm/{key}/",
        )

    configure([("email", "password", "passcode"), ("email", "passcode")])
    return configure


# --- lockout and codes --------------------------------------------------------


def test_lockout_in_german(email_mfa_user: tuple[Any, list[str]], anon_client: APIClient) -> None:
    user, _ = email_mfa_user
    threshold = int(mfa_settings.LOCKOUT_THRESHOLD)
    MFAMethod.objects.filter(user=user).update(failure_count=threshold - 1)
    response = anon_client.post(LOGIN, credentials(user), **DE)
    token = response.json()["ephemeral_token"]
    wrong = anon_client.post(LOGIN_CODE, {"ephemeral_token": token, "code": "000000"}, **DE)
    assert_error(wrong, 401, "invalid_code", "Ungültiger oder abgelaufener Code.")
    locked = anon_client.post(LOGIN_CODE, {"ephemeral_token": token, "code": last_code()}, **DE)
    assert_error(
        locked, 429, "locked", "Zu viele Fehlversuche. Diese Methode ist vorübergehend gesperrt."
    )


def test_code_email_in_german(user: Any, api_client: APIClient) -> None:
    assert api_client.post("/auth/email/activate/", **DE).status_code == 200
    (message,) = mail.outbox
    assert message.subject == "Ihr Bestätigungscode"
    assert "Ihr Bestätigungscode lautet:" in message.body
    assert "Wenn Sie diesen Code nicht angefordert haben" in message.body


# --- login flows ---------------------------------------------------------------


def test_flow_login_errors_in_german(
    user: Any, anon_client: APIClient, email_flows: Callable[..., Any]
) -> None:
    identifiers.mark_confirmed(user, "email")
    body = anon_client.post(LOGIN, {"email": user.email}, **DE).json()
    assert mail.outbox[-1].subject == "Ihr Bestätigungscode"
    wrong = anon_client.post(
        LOGIN_CODE, {"ephemeral_token": body["ephemeral_token"], "code": "000000"}, **DE
    )
    assert_error(wrong, 401, "invalid_code", "Ungültiger oder abgelaufener Code.")
    email_flows([("email", "password", "passcode")])
    refused = anon_client.post(LOGIN, {"email": user.email, "password": "wrong"}, **DE)
    assert_error(
        refused, 400, "unauthenticated", "Anmeldung mit den angegebenen Zugangsdaten nicht möglich."
    )
    with translation.override("de"):
        required = str(serializers.Field.default_error_messages["required"])
    assert required != "This field is required."
    assert anon_client.post(LOGIN, {}, **DE).json() == {"email": [required], "password": [required]}


def test_hardcode_errors_in_german(api_client: APIClient, email_flows: Callable[..., Any]) -> None:
    shortest = int(mfa_settings.HARDCODE_MIN_LENGTH)
    short = api_client.post("/auth/hardcode/", {"hardcode": "1", "password": PASSWORD}, **DE)
    assert short.status_code == 400
    assert short.json() == {
        "hardcode": [
            f"Stellen Sie sicher, dass dieses Feld mindestens {shortest} Zeichen lang ist."
        ]
    }
    wrong = api_client.post("/auth/hardcode/", {"hardcode": "2468", "password": "nope"}, **DE)
    # "Invalid password." is in Django's catalogues too; with django.contrib
    # before trench_mfa in INSTALLED_APPS, Django's German wins.
    assert_error(wrong, 400, "invalid_password")
    assert wrong.json()["error"] in {"Ungültiges Passwort.", "Das Passwort ist ungültig."}


# --- identifier verification ------------------------------------------------------


def test_verification_errors_in_german(
    user: Any, api_client: APIClient, anon_client: APIClient, email_flows: Callable[..., Any]
) -> None:
    unconfirmed = api_client.post("/auth/email/activate/", **DE)
    assert_error(
        unconfirmed,
        400,
        "identifier_not_confirmed",
        "Bestätigen Sie diese Adresse, bevor Sie sie verwenden.",
    )
    unknown = api_client.post(REQUEST, {"field": "password"}, **DE)
    assert_error(unknown, 400, "unknown_identifier", "Dieses Feld kann nicht bestätigt werden.")
    bad_link = anon_client.get("/auth/verification/email/not-a-key/", **DE)
    assert_error(bad_link, 400, "invalid_link", "Ungültiger oder abgelaufener Link.")


def test_verification_email_and_answers_in_german(
    user: Any, api_client: APIClient, email_flows: Callable[..., Any]
) -> None:
    assert api_client.post(REQUEST, {"field": "email"}, **DE).status_code == 200
    (message,) = mail.outbox
    assert "Oder bestätigen Sie Ihre Adresse, indem Sie diesen Link öffnen:" in message.body
    html = str(message.alternatives[0][0])  # type: ignore[attr-defined]
    assert "Oder bestätigen Sie Ihre Adresse, indem Sie diesen Link öffnen." in html
    confirmed = api_client.post("/auth/verification/email/confirm/", {"code": last_code()}, **DE)
    assert confirmed.json() == {"details": "Adresse bestätigt."}
    again = api_client.post(REQUEST, {"field": "email"}, **DE)
    assert_error(again, 400, "identifier_already_confirmed", "Diese Adresse ist bereits bestätigt.")


# --- admin and support commands ---------------------------------------------------


def test_event_title_in_german(user: Any) -> None:
    event = MFAEvent.objects.create(user=user, method="email", event=EventType.CODE_SENT)
    with translation.override("de"):
        assert str(event) == f"code_sent (success) für Benutzer {user.pk}"
    assert str(event) == f"code_sent (success) for user {user.pk}"


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_support_commands_in_german(user: Any, api_client: APIClient) -> None:
    activate(api_client, "email")
    with translation.override("de"):
        status = _run("mfa_status", user.get_username())
        assert "Benutzer: " in status and "(MFA an)" in status
        assert "email: aktiv, primär" in status
        assert "Verbleibende Backup-Codes: 10" in status
        with pytest.raises(CommandError, match=r"Benutzer 'nobody' nicht gefunden\."):
            _run("mfa_disable", "nobody")
        assert "1 Methode(n) von " in _run("mfa_disable", user.get_username())
        assert "(MFA aus)" in _run("mfa_status", user.get_username())


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "Show the MFA methods, primary method, backup codes left and lock state"),
        ("de", "Zeigt die MFA-Methoden, die primäre Methode, die verbleibenden Backup-Codes"),
    ],
)
def test_command_help_is_translated(language: str, text: str) -> None:
    with translation.override(language):
        command = load_command_class("trench_mfa", "mfa_status")
        help_text = command.create_parser("manage.py", "mfa_status").format_help()
    assert text in " ".join(help_text.split())

"""Security notification emails over real SMTP: one per kind, nothing secret, after commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import EMAIL2, FLAVOURS, credentials
from tests.notifications.conftest import activate, subjects, text_of
from tests.support.smtp import Mailbox

pytestmark = pytest.mark.django_db(transaction=True)

JWT = FLAVOURS[0]


def notices(box: Mailbox) -> list[str]:
    """Subjects of the received notification mails (code mails left out)."""
    return [s for s in subjects(box) if s != "Your verification code"]


def test_nothing_is_sent_unless_configured(
    user: Any, api_client: APIClient, mailbox: Mailbox
) -> None:
    activate(api_client, mailbox)
    assert notices(mailbox) == []


def test_adding_a_method(
    user: Any, api_client: APIClient, mailbox: Mailbox, notifying: None
) -> None:
    activate(api_client, mailbox)
    assert notices(mailbox) == ["A sign-in method was added to your account"]
    message = mailbox.messages[-1]
    assert mailbox.recipients[-1] == user.email
    body = text_of(message)
    assert "The method email was added to your account." in body
    assert "127.0.0.1" in body
    assert "The method email was added" in text_of(message, "text/html")


def test_removing_a_method_and_changing_the_primary(
    user: Any, api_client: APIClient, mailbox: Mailbox, notifying: Callable[..., dict[str, Any]]
) -> None:
    notifying(methods={"email2": EMAIL2})
    activate(api_client, mailbox)
    activate(api_client, mailbox, "email2")
    mailbox.messages.clear()
    assert api_client.post("/auth/code/request/").status_code == 200
    response = api_client.post(
        "/auth/mfa/change-primary-method/", {"method": "email2", "code": mailbox.last_code()}
    )
    assert response.status_code == 204, response.content
    assert api_client.post("/auth/code/request/", {"method": "email"}).status_code == 200
    response = api_client.post("/auth/email/deactivate/", {"code": mailbox.last_code()})
    assert response.status_code == 204, response.content
    assert notices(mailbox) == [
        "Your primary sign-in method changed",
        "A sign-in method was removed from your account",
    ]


def test_using_and_regenerating_backup_codes(
    user: Any, api_client: APIClient, mailbox: Mailbox, notifying: None
) -> None:
    codes = activate(api_client, mailbox)
    mailbox.messages.clear()
    first = APIClient().post(JWT.login, credentials(user)).json()
    response = APIClient().post(
        JWT.code, {"ephemeral_token": first["ephemeral_token"], "code": codes[0]}
    )
    assert response.status_code == 200, response.content
    response = api_client.post("/auth/email/codes/regenerate/", {"code": codes[1]})
    assert response.status_code == 200, response.content
    new_codes = response.json()["backup_codes"]
    assert notices(mailbox) == [
        "A backup code was used",
        "A backup code was used",
        "Your backup codes were replaced",
    ]
    everything = "".join(m.as_string() for m in mailbox.messages)
    for secret in (*codes, *new_codes, first["ephemeral_token"]):
        assert secret not in everything


def test_remembering_a_device(
    user: Any, api_client: APIClient, mailbox: Mailbox, notifying: Callable[..., dict[str, Any]]
) -> None:
    notifying(REMEMBER_DEVICE=True)
    activate(api_client, mailbox)
    mailbox.messages.clear()
    client = APIClient(HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0) Firefox/128.0")
    first = client.post(JWT.login, credentials(user)).json()
    response = client.post(
        JWT.code,
        {
            "ephemeral_token": first["ephemeral_token"],
            "code": mailbox.last_code(),
            "remember_device": True,
        },
    )
    token = response.json()["device_token"]
    assert notices(mailbox) == ["A device was remembered"]
    body = text_of(mailbox.messages[-1])
    assert "Firefox on Windows will not be asked for a code" in body
    assert token not in mailbox.messages[-1].as_string()


def test_a_lockout(
    user: Any, api_client: APIClient, mailbox: Mailbox, notifying: Callable[..., dict[str, Any]]
) -> None:
    notifying(LOCKOUT_THRESHOLD=2)
    activate(api_client, mailbox)
    mailbox.messages.clear()
    token = APIClient().post(JWT.login, credentials(user)).json()["ephemeral_token"]
    for _ in range(2):
        APIClient().post(JWT.code, {"ephemeral_token": token, "code": "000000"})
    assert notices(mailbox) == ["Your account was locked"]


def test_a_kind_can_be_turned_off(
    user: Any,
    api_client: APIClient,
    mailbox: Mailbox,
    trench_auth: Callable[..., dict[str, Any]],
) -> None:
    trench_auth(SECURITY_NOTIFICATIONS={"method_added": False})
    codes = activate(api_client, mailbox)
    assert notices(mailbox) == []
    api_client.post("/auth/email/codes/regenerate/", {"code": codes[0]})
    assert notices(mailbox) == ["A backup code was used", "Your backup codes were replaced"]


def test_the_mail_is_in_the_requests_language(
    user: Any, api_client: APIClient, mailbox: Mailbox, notifying: None
) -> None:
    activate(api_client, mailbox, HTTP_ACCEPT_LANGUAGE="de")
    assert notices(mailbox)[-1] == "Eine Anmeldemethode wurde Ihrem Konto hinzugefügt"


def test_a_failed_send_never_fails_the_request(
    user: Any, api_client: APIClient, mailbox: Mailbox, notifying: None, logs: Any
) -> None:
    assert api_client.post("/auth/email/activate/").status_code == 200
    code = mailbox.last_code()
    mailbox.refuse = "data"
    response = api_client.post("/auth/email/activate/confirm/", {"code": code})
    assert response.status_code == 200, response.content
    assert len(response.json()["backup_codes"]) == 10
    assert "Could not send the method_added security notification" in "\n".join(logs.lines)


def test_templates_can_be_overridden(
    user: Any,
    api_client: APIClient,
    mailbox: Mailbox,
    notifying: None,
    settings: Any,
    tmp_path: Any,
) -> None:
    folder = tmp_path / "trench_mfa" / "email" / "security"
    folder.mkdir(parents=True)
    (folder / "method_added.txt").write_text("Custom: {{ method }} at {{ ip }}.")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    activate(api_client, mailbox)
    assert text_of(mailbox.messages[-1]).strip() == "Custom: email at 127.0.0.1."

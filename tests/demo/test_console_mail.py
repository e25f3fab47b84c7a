"""The demo's console email backend prints one readable line per email, with the code.

``testproject.console_mail.EmailBackend`` (the demo's email backend)
writes ``[mail] to <recipient>: <subject> | <first body line>`` plus every
link of the body, on one line: a code read off that line activates the
method, and a verification link read off it confirms the address.
"""

from __future__ import annotations

import re
from io import StringIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from rest_framework.test import APIClient

from testproject import console_mail
from tests.conftest import use_mail

BACKEND = "testproject.console_mail.EmailBackend"
_CODE = re.compile(r"\b([0-9]{6})\b")


@pytest.fixture
def console_backend(settings: Any) -> None:
    """The demo's backend instead of the suite's locmem one."""
    use_mail(settings, BACKEND)


def test_the_line_of_an_activation_code_carries_a_code_that_works(
    console_backend: None, user: Any, api_client: APIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert api_client.post("/auth/email/activate/").status_code == 200
    printed = capsys.readouterr().out
    (line,) = printed.splitlines()
    assert line.startswith(f"[mail] to {user.email}: Your verification code | ")
    code = _CODE.search(line)
    assert code, line
    confirmed = api_client.post("/auth/email/activate/confirm/", {"code": code.group(1)})
    assert confirmed.status_code == 200, confirmed.content
    assert len(confirmed.json()["backup_codes"]) == 10


def test_the_line_of_a_sign_up_carries_the_link_that_confirms(
    console_backend: None,
    demo_settings: None,
    db: None,
    capsys: pytest.CaptureFixture[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = APIClient()
    body = {"username": "carol", "email": "carol@example.com", "password": "a-long-demo-passphrase"}
    capsys.readouterr()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/auth/users/", body).status_code == 201
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("[mail] to carol@example.com: ")
    assert _CODE.search(line), line
    link = re.search(r" \| link: (http://\S+)$", line)
    assert link, line
    # The link confirms on POST (opening it only describes it).
    confirmed = client.post(urlsplit(link.group(1)).path)
    assert confirmed.json() == {"details": "Address confirmed."}


def test_any_email_becomes_one_line_on_the_stream_it_is_given() -> None:
    stream = StringIO()
    connection = console_mail.EmailBackend(stream=stream)
    message = mail.EmailMultiAlternatives(
        "Welcome\nto the demo",
        "\n\nHello Bob,\nyour account is ready: https://example.org/start\n\nBye\n",
        to=["bob@example.com"],
        cc=["carol@example.com"],
        connection=connection,
    )
    message.attach_alternative("<p>Hello Bob</p>", "text/html")
    assert message.send() == 1
    assert stream.getvalue() == (
        "[mail] to bob@example.com, carol@example.com: Welcome to the demo | Hello Bob, | "
        "link: https://example.org/start\n"
    )


def test_an_empty_email_still_names_its_recipient() -> None:
    message = mail.EmailMessage("", "", to=["bob@example.com"])
    assert console_mail.summary(message) == "[mail] to bob@example.com:"

"""No code, backup code, token or password ever reaches a log record."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.conftest import FLAVOURS, PASSWORD, last_code, start_login, use_mail

pytestmark = pytest.mark.django_db


class Collect(logging.Handler):
    """Keeps every formatted record, arguments included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {record.exc_text}")


@pytest.fixture
def logs() -> Iterator[Collect]:
    """Every record at DEBUG, from the root logger and from ``trench_mfa`` (not propagated)."""
    handler = Collect()
    loggers = [logging.getLogger(), logging.getLogger("trench_mfa")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(logging.DEBUG)
    yield handler
    for lg, level in zip(loggers, levels, strict=True):
        lg.removeHandler(handler)
        lg.setLevel(level)


def test_full_flow_logs_no_secret(
    logs: Collect, user: Any, api_client: APIClient, anon_client: APIClient
) -> None:
    secrets = [PASSWORD]
    api_client.post("/auth/email/activate/")
    secrets.append(last_code())
    response = api_client.post("/auth/email/activate/confirm/", {"code": "000000"})
    response = api_client.post("/auth/email/activate/confirm/", {"code": secrets[-1]})
    backup = response.json()["backup_codes"]
    secrets += backup
    for flavour in FLAVOURS:
        token = start_login(anon_client, flavour, user)["ephemeral_token"]
        secrets += [token, last_code()]
        anon_client.post(flavour.code, {"ephemeral_token": token, "code": "999999"})
        body = anon_client.post(
            flavour.code, {"ephemeral_token": token, "code": backup.pop()}
        ).json()
        secrets += list(body.values())
    anon_client.post(FLAVOURS[0].code, {"ephemeral_token": secrets[-3], "code": "123456"})
    assert logs.lines, "the flow logs something, so the check below means something"
    text = "\n".join(logs.lines)
    assert not [s for s in secrets if s in text]


def test_failed_send_logs_no_code(
    logs: Collect, user: Any, api_client: APIClient, settings: Any, monkeypatch: Any
) -> None:
    from trench_mfa.state import codes

    issued: list[str] = []
    real = codes.issue_code
    monkeypatch.setattr(
        codes, "issue_code", lambda *a, **k: issued.append(real(*a, **k)) or issued[-1]
    )
    # Nothing listens on the discard port of the loopback interface.
    use_mail(
        settings,
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=9,
        timeout=2,
    )
    assert api_client.post("/auth/email/activate/").status_code == 503
    assert issued
    assert not [line for line in logs.lines if issued[0] in line]

"""Fixtures of the notification tests: a real SMTP server, the notifications on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email.message import Message
from typing import Any

import pytest

from tests.support.smtp import Mailbox, smtp_server


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port; Django's SMTP backend points at it."""
    handler = Mailbox()
    with smtp_server(handler, settings):
        yield handler


@pytest.fixture
def notifying(trench_auth: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Every kind of security notification on; returns ``trench_auth`` for more settings."""
    trench_auth(SECURITY_NOTIFICATIONS=True)
    return trench_auth


def text_of(message: Message, kind: str = "text/plain") -> str:
    """The decoded body part of ``kind`` of a received message."""
    parts = message.walk() if message.is_multipart() else [message]
    for part in parts:
        if part.get_content_type() == kind:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no {kind} part")


def subjects(box: Mailbox) -> list[str]:
    """The subjects of the received messages, in order (decoded)."""
    from email.header import decode_header, make_header

    return [str(make_header(decode_header(str(m["Subject"])))) for m in box.messages]


def activate(client: Any, box: Mailbox, name: str = "email", **headers: Any) -> list[str]:
    """Activate ``name`` reading the codes from ``box``; the backup codes.

    With MFA already on, a code of the primary (email) confirms the addition.
    """
    body = {}
    if client.get("/auth/mfa/user-active-methods/").json():
        assert client.post("/auth/code/request/").status_code == 200
        body = {"code": box.last_code()}
    response = client.post(f"/auth/{name}/activate/", body, **headers)
    assert response.status_code == 200, response.content
    response = client.post(f"/auth/{name}/activate/confirm/", {"code": box.last_code()}, **headers)
    assert response.status_code == 200, response.content
    return list(response.json()["backup_codes"])

"""An SMTP server on loopback, for the tests that send email over real SMTP.

The ``mailbox`` fixture (loaded for every folder by the root conftest) runs
one for a test and points Django's SMTP backend at it.
"""

from __future__ import annotations

import email
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import use_mail


class Mailbox:
    """An aiosmtpd handler that keeps messages, or refuses at RCPT or DATA."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.recipients: list[str] = []
        self.refuse: str | None = None  # None, "rcpt" or "data"

    async def handle_RCPT(  # aiosmtpd's hook names
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        """Accept or refuse a recipient."""
        if self.refuse == "rcpt":
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Keep the message, or refuse it."""
        if self.refuse == "data":
            return "554 5.6.0 Message rejected"
        self.recipients.extend(envelope.rcpt_tos)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def last_code(self) -> str:
        """The 6-digit code in the plain-text part of the last message."""
        return code_in(self.messages[-1])


def code_in(message: Message) -> str:
    """The 6-digit code in the plain-text part of ``message``."""
    parts = message.walk() if message.is_multipart() else [message]
    text = next(
        p.get_payload(decode=True).decode() for p in parts if p.get_content_type() == "text/plain"
    )
    match = re.search(r"\b([0-9]{6})\b", text)
    assert match, text
    return match.group(1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def use_smtp(settings: Any, port: int, timeout: int = 5) -> None:
    """Point Django's SMTP backend at 127.0.0.1:``port``."""
    use_mail(
        settings,
        "django.core.mail.backends.smtp.EmailBackend",
        host="127.0.0.1",
        port=port,
        use_tls=False,
        use_ssl=False,
        username="",
        password="",
        timeout=timeout,
    )


def use_smtp_that_is_down(settings: Any) -> None:
    """Point Django's SMTP backend at a loopback port nobody listens on."""
    use_smtp(settings, free_port(), timeout=2)


@contextmanager
def smtp_server(handler: Any, settings: Any = None) -> Iterator[int]:
    """Serve ``handler`` on a free loopback port; yield the port.

    With ``settings`` (pytest-django's fixture), Django's SMTP backend points at it.
    """
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    if settings is not None:
        use_smtp(settings, controller.port)
    try:
        yield controller.port
    finally:
        controller.stop()


@pytest.fixture
def mailbox(settings: Any) -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port; Django's SMTP backend points at it."""
    handler = Mailbox()
    with smtp_server(handler, settings):
        yield handler

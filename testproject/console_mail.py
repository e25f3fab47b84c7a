"""The demo's email backend: one short line per email on the console.

Django's console backend prints every email as a full MIME message (headers,
both alternatives, quoted-printable), some forty lines in which a newcomer
has to find the code. This one prints one line per email::

    [mail] to demo@example.com: Your verification code | Your verification code is: <code>

with the recipients, the subject, the first line of the plain-text body (where
trench_mfa's templates put the code) and every link of the body (the
verification link of a sign-up). Demo only: nothing is sent.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

_LINK = re.compile(r"https?://\S+")


def summary(message: EmailMessage) -> str:
    """The one-line form of ``message`` (no line breaks, whatever its body holds)."""
    lines = [line.strip() for line in str(message.body).splitlines() if line.strip()]
    parts = [str(message.subject).strip()]
    if lines:
        parts.append(lines[0])
        parts.extend(f"link: {link}" for line in lines[1:] for link in _LINK.findall(line))
    recipients = ", ".join(message.recipients()) or "(no recipient)"
    # Subjects and bodies may carry line breaks of their own: fold them too.
    return " ".join(f"[mail] to {recipients}: {' | '.join(parts)}".split())


class EmailBackend(BaseEmailBackend):
    """Writes :func:`summary` of each email to ``stream`` (standard output by default)."""

    def __init__(self, *args: Any, stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream or sys.stdout
        # runserver serves requests in threads: one line must not cut into another.
        self._lock = threading.Lock()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        """Print each message; return how many were printed (all of them)."""
        sent = 0
        with self._lock:
            for message in email_messages:
                self.stream.write(summary(message) + "\n")
                sent += 1
            self.stream.flush()
        return sent

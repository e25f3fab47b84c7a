"""Email method: a random code sent through Django's email API.

Any ``EMAIL_BACKEND`` works (SMTP, console, an anymail provider). Subject
and bodies come from the method's settings and templates, which receive
``code``, ``valid_minutes``, ``valid_for`` (seconds) and ``purpose``;
verification emails also get ``link`` (see ``VERIFICATION_LINK_URL``).
At most ``EMAIL_MAX_PER_ADDRESS`` emails go to one address in any hour,
whoever asks for them (see :mod:`trench_mfa.state.send_limits`).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from trench_mfa.backends.base import CodeDispatcher, CodeMessage, DispatchError
from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose
from trench_mfa.state import identity


class EmailMessageDispatcher(CodeDispatcher):
    """Sends the code by email to the address bound at activation (``SOURCE_FIELD``: ``email``)."""

    channel = "email"
    success_message = _("Email message with MFA code has been sent.")
    #: Used when the method's settings name no template or subject, e.g. a
    #: second email method under another name (``KNOWN_METHODS`` only fills
    #: in the method called ``email``).
    default_subject = _("Your verification code")
    default_plain_template = "trench_mfa/email/code.txt"
    default_html_template = "trench_mfa/email/code.html"

    @sensitive_variables()
    def get_context(self, message: CodeMessage) -> dict[str, Any]:
        """Template context; override to add your own values."""
        return {
            "code": message.code,
            "valid_for": message.valid_for,
            "valid_minutes": message.valid_minutes,
            "purpose": message.purpose,
            "user": self._mfa_method.user,
        }

    def clean_recipient(self, value: Any) -> str | None:
        """The address, refused when it could inject mail headers."""
        if value in (None, ""):
            return None
        address = str(value)
        try:
            validate_email(address)
        except ValidationError:
            return None
        return address

    def recipient_limit(self) -> int | None:
        """``EMAIL_MAX_PER_ADDRESS`` emails per address per hour."""
        limit = mfa_settings.EMAIL_MAX_PER_ADDRESS
        return int(limit) if limit else None

    def cap_identity(self, recipient: str) -> str:
        """The mailbox an address reaches, written one way.

        ``Alice@Example.com``, ``alice+1@example.com`` (RFC 5233
        subaddresses), ``"alice"@example.com`` and ``"a\\lice"@example.com``
        (RFC 5321 quoted strings) and ``alice@exämple.com`` next to its
        punycode ``alice@xn--exmple-cua.com`` all land in one inbox, so they
        share one quota: quotes and escapes are undone, the ``+tag`` dropped,
        the domain IDNA-encoded, everything case-folded.
        """
        local, _at, domain = recipient.strip().rpartition("@")
        if len(local) >= 2 and local[0] == local[-1] == '"':
            local = re.sub(r"\\(.)", r"\1", local[1:-1])
        local = local.casefold()
        domain = domain.rstrip(".")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # not a host name (e.g. an address literal): counted as written
        return f"{local.split('+', 1)[0] or local}@{domain.casefold()}"

    def verification_link(self, recipient: str) -> str | None:
        """The confirmation link for ``recipient`` (``VERIFICATION_LINK_URL``), or ``None``."""
        field = self.source_field
        if not field:
            return None
        return identity.link_url(self._mfa_method.user, field, recipient)

    @sensitive_variables()
    def send(self, recipient: str, message: CodeMessage) -> None:
        """Render the templates and send one email."""
        context = self.get_context(message)
        if message.purpose == CodePurpose.VERIFICATION:
            # Verification emails also carry the classic confirmation link.
            context.setdefault("link", self.verification_link(recipient))
        # Defined for every message: a variable missing from the context
        # makes django.template log the whole context, code included, at DEBUG.
        context.setdefault("link", None)
        subject = str(self._config.get("EMAIL_SUBJECT") or "")
        if not subject and self._config.get("EMAIL_SUBJECT_TEMPLATE"):
            subject = render_to_string(self._config["EMAIL_SUBJECT_TEMPLATE"], context)
        subject = subject or str(self.default_subject)
        # Headers must be one line: fold any line break a template left in.
        subject = " ".join(subject.split())
        plain_template = self._config.get("EMAIL_PLAIN_TEMPLATE") or self.default_plain_template
        text = render_to_string(plain_template, context)
        email = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient],
        )
        html_template = self._config.get("EMAIL_HTML_TEMPLATE", self.default_html_template)
        if html_template:
            email.attach_alternative(render_to_string(html_template, context), "text/html")
        try:
            email.send()
        except Exception as exc:
            # Any EMAIL_BACKEND may raise its own exception types (smtplib,
            # anymail, SES); all of them mean "not delivered".
            raise DispatchError(type(exc).__name__) from exc

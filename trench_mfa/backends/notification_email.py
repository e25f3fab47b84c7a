"""The email of a security notification: subject, text and HTML, in the user's language.

Templates are looked up per kind first, so a project can override one kind
or all of them: ``trench_mfa/email/security/<kind>.txt`` (and ``.html``),
else ``trench_mfa/email/security/notice.txt`` (and ``.html``). They receive
``kind``, ``subject``, ``message`` (one translated sentence), ``method``,
``device``, ``ip``, ``when`` (an aware datetime) and ``user``. Nothing secret
is ever in the context.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.utils import translation
from django.utils.translation import gettext as _

from trench_mfa.user import AnyUser


def _texts(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """(subject, message) of ``kind`` in the active language."""
    method = context.get("method") or ""
    device = context.get("device") or _("an unknown device")
    texts = {
        "method_added": (
            _("A sign-in method was added to your account"),
            _("The method %(method)s was added to your account.") % {"method": method},
        ),
        "method_removed": (
            _("A sign-in method was removed from your account"),
            _("The method %(method)s was removed from your account.") % {"method": method},
        ),
        "primary_changed": (
            _("Your primary sign-in method changed"),
            _("%(method)s is now your primary sign-in method.") % {"method": method},
        ),
        "backup_code_used": (
            _("A backup code was used"),
            _("One of your backup codes was used to sign in or confirm a change."),
        ),
        "backup_codes_regenerated": (
            _("Your backup codes were replaced"),
            _("New backup codes were made for your account; the old ones no longer work."),
        ),
        "device_remembered": (
            _("A device was remembered"),
            _("%(device)s will not be asked for a code when signing in.") % {"device": device},
        ),
        "locked_out": (
            _("Your account was locked"),
            _("Too many wrong codes were entered; signing in is blocked for a while."),
        ),
    }
    return texts[kind]


def _render(kind: str, suffix: str, context: dict[str, Any]) -> str | None:
    names = [
        f"trench_mfa/email/security/{kind}.{suffix}",
        f"trench_mfa/email/security/notice.{suffix}",
    ]
    try:
        template = select_template(names)
    except TemplateDoesNotExist:
        return None
    return template.render(context)


def send(kind: str, user: AnyUser, details: dict[str, Any], *, language: str | None) -> bool:
    """Send the notification ``kind`` to ``user``; ``False`` when they have no address."""
    field = type(user).get_email_field_name()
    address = getattr(user, field, None)
    if not address:
        return False
    with translation.override(language or settings.LANGUAGE_CODE):
        subject, message = _texts(kind, details)
        context = {
            **details,
            "kind": kind,
            "subject": subject,
            "message": message,
            "when": datetime.fromisoformat(str(details["when"])),
            "user": user,
        }
        text = _render(kind, "txt", context) or render_to_string(
            "trench_mfa/email/security/notice.txt", context
        )
        html = _render(kind, "html", context)
    email = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[str(address)],
    )
    if html:
        email.attach_alternative(html, "text/html")
    email.send()
    return True

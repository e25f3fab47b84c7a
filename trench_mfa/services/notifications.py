"""Security notification emails: the user hears of every change to their MFA.

Kinds, each sent when its signal is (:mod:`trench_mfa.signals`):

``method_added``
    a method was activated (``mfa_method_activated``);
``method_removed``
    a method was deactivated, by the user or by staff (``mfa_method_deactivated``);
``primary_changed``
    another method became primary (``primary_method_changed``);
``backup_code_used``
    a backup code answered a code check (``backup_code_used``);
``backup_codes_regenerated``
    the backup codes were replaced (``backup_codes_regenerated``);
``device_remembered``
    a login remembered a device (``device_remembered``);
``locked_out``
    too many wrong codes locked the account (``locked_out``).

``SECURITY_NOTIFICATIONS`` switches them: ``None`` (the default, as in
django-trench) sends none, ``True`` every kind, a dict every kind but those
mapped to ``False``. A mail goes to the user's email field
(``get_email_field_name()``) after the transaction that made the change
commits (``transaction.on_commit``): a change that rolls back sends nothing.
What it says: which kind, the method's name, the time, the client's IP
address and, for a device, its name. Never a code, secret or token.
Sending is :mod:`trench_mfa.dispatch.notifications`' job (now, or from a
Celery task under ``DISPATCH = "celery"``); a failed send is logged and never
fails the request.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone, translation

from trench_mfa import signals
from trench_mfa.conf import mfa_settings
from trench_mfa.dispatch import notifications as outbox
from trench_mfa.user import AnyUser

METHOD_ADDED = "method_added"
METHOD_REMOVED = "method_removed"
PRIMARY_CHANGED = "primary_changed"
BACKUP_CODE_USED = "backup_code_used"
BACKUP_CODES_REGENERATED = "backup_codes_regenerated"
DEVICE_REMEMBERED = "device_remembered"
LOCKED_OUT = "locked_out"

#: The signal each kind follows.
SIGNALS: dict[str, Signal] = {
    METHOD_ADDED: signals.mfa_method_activated,
    METHOD_REMOVED: signals.mfa_method_deactivated,
    PRIMARY_CHANGED: signals.primary_method_changed,
    BACKUP_CODE_USED: signals.backup_code_used,
    BACKUP_CODES_REGENERATED: signals.backup_codes_regenerated,
    DEVICE_REMEMBERED: signals.device_remembered,
    LOCKED_OUT: signals.locked_out,
}


def enabled(kind: str) -> bool:
    """Whether ``SECURITY_NOTIFICATIONS`` sends ``kind``."""
    setting = mfa_settings.SECURITY_NOTIFICATIONS
    if setting is True:
        return True
    if isinstance(setting, dict):
        return bool(setting.get(kind, True))
    return False


def recipient(user: AnyUser) -> str | None:
    """The user's address, or ``None`` when they have none."""
    field = type(user).get_email_field_name() if hasattr(type(user), "get_email_field_name") else ""
    address = getattr(user, field, None) if field else None
    return str(address) if address else None


def _method_label(name: str | None) -> str:
    if not name:
        return ""
    config = mfa_settings.method(name)
    return str(config.verbose_name) if config is not None else name


def notify(kind: str, user: AnyUser, **details: Any) -> None:
    """Send ``kind`` to ``user`` after the current transaction commits (if it is on)."""
    if not enabled(kind) or user is None or recipient(user) is None:
        return
    context = {
        "kind": kind,
        "method": _method_label(details.get("method")),
        "ip": details.get("ip") or "",
        "device": details.get("device") or "",
        "when": timezone.now().isoformat(),
    }
    job = outbox.Notification(
        kind=kind, user_pk=str(user.pk), context=context, language=translation.get_language()
    )
    transaction.on_commit(lambda: outbox.deliver(job))


def _receiver(kind: str) -> Any:
    def receive(sender: Any, user: Any = None, **kwargs: Any) -> None:
        notify(kind, user, **kwargs)

    receive.__name__ = f"notify_{kind}"
    return receive


#: One receiver per kind, kept alive here (signals hold weak references).
_RECEIVERS = {kind: _receiver(kind) for kind in SIGNALS}


def connect() -> None:
    """Connect a receiver to each kind's signal (once)."""
    for kind, signal in SIGNALS.items():
        signal.connect(_RECEIVERS[kind], dispatch_uid=f"trench_mfa.notifications.{kind}")

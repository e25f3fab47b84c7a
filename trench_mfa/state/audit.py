"""Audit trail: every MFA signal becomes one log line and one :class:`MFAEvent`.

Services announce what happened with :func:`send`, which adds the client's
IP address to the signal's keyword arguments. :func:`record_signal`, connected
to every signal in ``AppConfig.ready()``, writes the event row (unless
``AUDIT_LOG`` is off) and a log line on the ``trench_mfa.state.audit`` logger. A
signal never carries a code, secret or token, so neither does the trail.

The IP address is the one DRF's throttles use (``REMOTE_ADDR``, or the
``X-Forwarded-For`` entry that ``REST_FRAMEWORK["NUM_PROXIES"]`` points at);
anything that is not an IP address is stored as ``NULL``.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import router
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from trench_mfa import signals
from trench_mfa.conf import mfa_settings
from trench_mfa.models import EventType, MFAEvent
from trench_mfa.state import sql
from trench_mfa.state.step_writes import StepWrites, Write

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

logger = logging.getLogger("trench_mfa.state.audit")

#: The event type written for each signal.
EVENTS: dict[Signal, EventType] = {
    signals.mfa_method_activated: EventType.METHOD_ACTIVATED,
    signals.mfa_method_deactivated: EventType.METHOD_DEACTIVATED,
    signals.primary_method_changed: EventType.PRIMARY_METHOD_CHANGED,
    signals.code_sent: EventType.CODE_SENT,
    signals.code_verified: EventType.CODE_VERIFIED,
    signals.verification_failed: EventType.VERIFICATION_FAILED,
    signals.backup_code_used: EventType.BACKUP_CODE_USED,
    signals.backup_codes_regenerated: EventType.BACKUP_CODES_REGENERATED,
    signals.locked_out: EventType.LOCKED_OUT,
    signals.dispatch_failed: EventType.DISPATCH_FAILED,
    signals.device_remembered: EventType.DEVICE_REMEMBERED,
    signals.device_used: EventType.DEVICE_USED,
    signals.device_rejected: EventType.DEVICE_REJECTED,
    signals.devices_revoked: EventType.DEVICES_REVOKED,
    signals.credential_added: EventType.CREDENTIAL_ADDED,
    signals.credential_removed: EventType.CREDENTIAL_REMOVED,
    signals.sign_count_regression: EventType.SIGN_COUNT_REGRESSION,
}
#: The outcome of events that are a refusal by themselves.
_DEFAULT_OUTCOMES = {
    EventType.LOCKED_OUT: "locked",
    EventType.SIGN_COUNT_REGRESSION: "refused",
}
_WARNINGS = {
    EventType.VERIFICATION_FAILED,
    EventType.LOCKED_OUT,
    EventType.DISPATCH_FAILED,
    EventType.DEVICE_REJECTED,
    EventType.SIGN_COUNT_REGRESSION,
}


def client_ip(request: Request | HttpRequest | None) -> str | None:
    """The client's IP address by DRF's ``NUM_PROXIES`` rule, or ``None``."""
    if request is None:
        return None
    ident = BaseThrottle().get_ident(request)  # type: ignore[arg-type]
    try:
        return str(ipaddress.ip_address(str(ident or "").strip()))
    except ValueError:
        return None


def send(
    signal: Signal,
    sender: str,
    *,
    user: Any,
    method: str | None,
    request: Request | HttpRequest | None = None,
    **extra: Any,
) -> None:
    """Send ``signal`` with ``user``, ``method``, ``request`` and ``ip``.

    Nothing is sent for a user that was never saved: the stand-in of a decoy
    login (:mod:`trench_mfa.state.phantoms`). Signals and the audit trail are
    about accounts, and a receiver must never see one that does not exist.
    """
    if getattr(user, "pk", None) is None:
        return
    signal.send(
        sender=sender, user=user, method=method, request=request, ip=client_ip(request), **extra
    )


#: Where :func:`record_signal` puts event rows instead of inserting them at
#: once (see :func:`deferred_to`). A context variable, not an argument: the
#: rows are written by a signal receiver, which only gets the signal's
#: arguments, and those reach every other receiver too.
_DEFERRED: ContextVar[StepWrites | None] = ContextVar("trench_mfa_audit_deferred", default=None)

#: The columns of an event row, in the ``INSERT``'s order.
_EVENT_FIELDS = ("user", "method", "event", "purpose", "outcome", "ip", "created_at")


@contextmanager
def deferred_to(writes: StepWrites) -> Iterator[None]:
    """Event rows recorded inside the block go into ``writes``, sent with its other writes.

    Login step 2 uses it so that the audit row costs no round trip of its own;
    the log line is still written at once.
    """
    token = _DEFERRED.set(writes)
    try:
        yield
    finally:
        _DEFERRED.reset(token)


def _event_write(using: str, values: dict[str, Any]) -> Write:
    """The ``INSERT`` of one event row."""
    text = sql.insert_statement(using, MFAEvent, _EVENT_FIELDS)
    params = [sql.prepared(using, MFAEvent, n, values[n]) for n in _EVENT_FIELDS]
    return Write(text, params, must_match=False)


def _store(values: dict[str, Any]) -> MFAEvent | None:
    """Insert the event row now, or collect it where :func:`deferred_to` says.

    Collected rows are plain ``INSERT`` statements, which send no model
    signals; so a project that listens to ``MFAEvent``'s ``pre_save`` or
    ``post_save`` (to forward events, say) gets every row saved by the ORM.
    """
    writes = _DEFERRED.get()
    if (
        writes is not None
        and router.db_for_write(MFAEvent) == writes.using
        and not (pre_save.has_listeners(MFAEvent) or post_save.has_listeners(MFAEvent))
    ):
        writes.add(_event_write(writes.using, {**values, "created_at": timezone.now()}))
        return None
    return MFAEvent.objects.create(
        user_id=values["user"], **{k: v for k, v in values.items() if k != "user"}
    )


def record_signal(sender: Any, signal: Signal, **kwargs: Any) -> MFAEvent | None:
    """Receiver: log the event and store it (``AUDIT_LOG``).

    Returns the stored row; ``None`` when ``AUDIT_LOG`` is off or the row was
    collected for later (:func:`deferred_to`).
    """
    event = EVENTS[signal]
    user = kwargs.get("user")
    user_id = getattr(user, "pk", None)
    method = str(kwargs.get("method") or "")
    purpose = str(kwargs.get("purpose") or "")
    reason = kwargs.get("reason")
    outcome = str(reason or _DEFAULT_OUTCOMES.get(event, "success"))
    ip = kwargs["ip"] if "ip" in kwargs else client_ip(kwargs.get("request"))
    # %r on the method name: it comes from a URL, so it is escaped for the log.
    logger.log(
        logging.WARNING if event in _WARNINGS else logging.INFO,
        "MFA %s: user %s, method %r, purpose %s, outcome %s, ip %s",
        event.value,
        user_id,
        method,
        purpose or "-",
        outcome,
        ip or "-",
    )
    if not mfa_settings.AUDIT_LOG:
        return None
    return _store(
        {
            "user": user_id,
            "method": method,
            "event": event,
            "purpose": purpose,
            "outcome": outcome,
            "ip": ip,
        }
    )


def connect_receivers() -> None:
    """Connect :func:`record_signal` to every signal (once)."""
    for signal, event in EVENTS.items():
        signal.connect(record_signal, dispatch_uid=f"trench_mfa.state.audit.{event.value}")

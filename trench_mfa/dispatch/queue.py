"""Sending codes from a Celery task (``TRENCH_AUTH["DISPATCH"] = "celery"``).

The request does everything it does in sync mode (cooldown, per-recipient
cap, code stored as a keyed hash) and then, after the commit, queues the task
``trench_mfa.send_code`` instead of calling the provider. The broker sees the
method id, the purpose, the challenge id and one Fernet token
(:mod:`trench_mfa.state.secrets_at_rest`) holding the code, the recipient, the
code's lifetime, the cap reservation and the request's language: never the
code or the address in clear. Workers therefore need the same
``ENCRYPTION_KEYS`` as the web servers.

A send that still fails after the task's retries withdraws the code, gives the
reservation back, logs a warning and sends :data:`signals.dispatch_failed`
(through :func:`trench_mfa.state.audit.send`, so the audit trail can record it).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.views.decorators.debug import sensitive_variables

from trench_mfa import signals
from trench_mfa.backends.base import (
    AbstractMessageDispatcher,
    CodeDispatcher,
    CodeMessage,
    DispatchError,
    DispatchResult,
)
from trench_mfa.backends.provider import get_mfa_handler
from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose, MFAMethod, OneTimeCode
from trench_mfa.state import audit, codes, secrets_at_rest, send_limits

logger = logging.getLogger("trench_mfa.dispatch")


@dataclass(frozen=True)
class QueuedCode:
    """What the task needs to send one stored code; travels encrypted."""

    code: str = field(repr=False)
    recipient: str = field(repr=False)
    valid_for: int
    quota_key: str | None = None
    quota_stamp: int | None = None
    #: The request's language: the worker writes the message in it. ``None``
    #: (no active language, or a job queued by an older version): ``LANGUAGE_CODE``.
    language: str | None = None

    @sensitive_variables()
    def seal(self) -> str:
        """This job as a Fernet token under the newest ``ENCRYPTION_KEYS`` key."""
        return secrets_at_rest.encrypt_secret(json.dumps(asdict(self)))

    @classmethod
    @sensitive_variables()
    def unseal(cls, token: str) -> QueuedCode:
        """Read a token made by :meth:`seal` (raises ``SecretDecryptionError``)."""
        return cls(**json.loads(secrets_at_rest.decrypt_secret(token)))

    @property
    def reservation(self) -> send_limits.Reservation:
        """The per-recipient cap entry taken for this send (if any)."""
        return send_limits.Reservation(key=self.quota_key, stamp=self.quota_stamp)


#: The Celery task that sends a queued code (:func:`trench_mfa.tasks.send_code`).
SEND_CODE_TASK = "trench_mfa.send_code"


@sensitive_variables()
def send_later(
    handler: CodeDispatcher, recipient: str, message: CodeMessage, quota: send_limits.Reservation
) -> DispatchResult:
    """Queue the send of a code that is already stored (see :mod:`trench_mfa.dispatch.delivery`)."""
    method, purpose = handler.mfa_method, CodePurpose(handler.purpose)
    job = QueuedCode(
        message.code,
        recipient,
        message.valid_for,
        quota.key,
        quota.stamp,
        translation.get_language(),
    )
    args = (method.pk, str(purpose), handler.challenge_id, job.seal())
    refused: list[str] = []

    def enqueue() -> None:
        # Imported when used: Celery is an optional extra.
        from celery import current_app
        from kombu.exceptions import OperationalError

        try:
            # By name, from Celery's registry (trench_mfa.tasks registers it):
            # the task module builds on this one, not the other way round.
            current_app.tasks[SEND_CODE_TASK].apply_async(args=args)
        except (OperationalError, OSError) as exc:
            refused.append(type(exc).__name__)
            abandon(method, purpose, job, reason="enqueue_failed", detail=refused[-1])

    # Outside an atomic block on_commit runs at once: a broker that is down
    # then fails this request (503) just as a provider outage does in sync
    # mode. Inside a request-wide transaction it runs after the commit, when
    # the answer is already decided; the log and the signal report it then.
    transaction.on_commit(enqueue)
    if refused:
        return DispatchResult.failed()
    return DispatchResult.sent(str(handler.success_message))


def _own_storage(handler_class: type) -> bool:
    # Codes of a dispatcher with its own create_code() are not in OneTimeCode,
    # so they cannot be looked up or voided one by one.
    return getattr(handler_class, "create_code", None) is not AbstractMessageDispatcher.create_code


def _live_code(method_id: int, purpose: str, code: str) -> QuerySet[OneTimeCode]:
    return OneTimeCode.objects.filter(
        method_id=method_id,
        purpose=purpose,
        code_hash=codes.code_digest(method_id, purpose, code),
        consumed_at__isnull=True,
        expires_at__gt=timezone.now(),
        attempts__lt=mfa_settings.MAX_CODE_ATTEMPTS,
    )


def _load(method_id: int, purpose: str, challenge_id: int | None) -> CodeDispatcher:
    method = MFAMethod.objects.select_related("user").get(pk=method_id)
    handler = get_mfa_handler(method, purpose=CodePurpose(purpose), challenge_id=challenge_id)
    if not isinstance(handler, CodeDispatcher):
        raise ImproperlyConfigured(f"MFA method {method.name!r} does not send codes any more.")
    return handler


@sensitive_variables()
def run(method_id: int, purpose: str, challenge_id: int | None, payload: str, attempt: int) -> str:
    """The body of ``trench_mfa.send_code``: send one queued code.

    Returns ``"sent"``, or ``"skipped"`` when there is nothing to send any
    more (method deleted; code used, replaced or expired). A failed send
    raises ``DispatchError`` (with a log-safe message) for the task to retry.
    """
    job = QueuedCode.unseal(payload)
    if not MFAMethod.objects.filter(pk=method_id).exists():
        send_limits.release_recipient(job.reservation)
        return "skipped"
    handler = _load(method_id, purpose, challenge_id)
    if not _own_storage(type(handler)) and not _live_code(method_id, purpose, job.code).exists():
        # After failed attempts the code ran out while waiting: that is a
        # failed delivery; on the first attempt it was simply replaced or used.
        if attempt:
            abandon(handler.mfa_method, CodePurpose(purpose), job, reason="expired")
        else:
            send_limits.release_recipient(job.reservation)
        return "skipped"
    message = CodeMessage(code=job.code, valid_for=job.valid_for, purpose=CodePurpose(purpose))
    try:
        with translation.override(job.language):
            handler.send(job.recipient, message)
    except (DispatchError, OSError) as exc:
        # Celery logs failures with their whole exception chain, and a client
        # library's message may quote the text or the number: re-raise with
        # the log-safe text only (the DispatchError's, or the class name).
        safe = str(exc) if isinstance(exc, DispatchError) else type(exc).__name__
        raise DispatchError(safe) from None
    logger.info("Sent a queued MFA code (purpose %s, method %r)", purpose, handler.mfa_method.name)
    return "sent"


def give_up(
    method_id: int, purpose: str, challenge_id: int | None, payload: str, exc: BaseException
) -> None:
    """After the last failed attempt: withdraw, release, log, signal."""
    method = MFAMethod.objects.select_related("user").filter(pk=method_id).first()
    if method is None:
        return
    try:
        job: QueuedCode | None = QueuedCode.unseal(payload)
    except secrets_at_rest.SecretDecryptionError:
        job = None
    detail = str(exc) if isinstance(exc, DispatchError) else type(exc).__name__
    abandon(method, CodePurpose(purpose), job, reason="send_failed", detail=detail)


def abandon(
    method: MFAMethod,
    purpose: CodePurpose,
    job: QueuedCode | None,
    *,
    reason: str,
    detail: str = "",
) -> None:
    """A queued code will not be delivered: nothing usable may outlive it."""
    _discard(method, purpose, job)
    if job is not None:
        send_limits.release_recipient(job.reservation)
    logger.warning(
        "Sending a queued MFA code (purpose %s, method %r) failed for good (%s)%s",
        purpose,
        method.name,
        reason,
        f": {detail}" if detail else "",
    )
    # Through the audit helper, like every other signal (no request here).
    audit.send(
        signals.dispatch_failed,
        __name__,
        user=method.user,
        method=method.name,
        purpose=purpose,
        reason=reason,
    )


def _discard(method: MFAMethod, purpose: CodePurpose, job: QueuedCode | None) -> None:
    config = mfa_settings.method(method.name)
    if config is not None and _own_storage(config.handler):
        get_mfa_handler(method, purpose=purpose).discard_code()
    elif job is not None:
        # Only this code: a newer one may have been sent in the meantime.
        # Deleted, not voided: an undelivered code does not count toward
        # SEND_LIMIT (see codes.withdraw_codes).
        codes.withdraw_codes(method, purpose, job.code)
    else:
        # The payload could not be read: withdraw every live code of the purpose.
        codes.withdraw_codes(method, purpose)

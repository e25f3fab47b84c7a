"""Deliver a code (or instructions) and turn a failed delivery into the matching error.

Every dispatch of the package goes through :func:`deliver`. For a
code-sending method (:class:`~trench_mfa.backends.base.CodeDispatcher`) the
rules live here, not in the dispatcher: the recipient check (the dispatcher
names the destination the method is bound to, see
:mod:`trench_mfa.state.destinations`), the resend cooldown and the
per-recipient cap, storing the new code, and withdrawing it again when the
send fails (it then counts toward no limit). The dispatcher only sends
(:meth:`send`), now or from a Celery task (``DISPATCH = "celery"``,
:mod:`trench_mfa.dispatch.queue`). Other methods (authenticator app, YubiKey,
django-trench style dispatchers) answer through their own
``dispatch_message()``.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from trench_mfa import signals
from trench_mfa.backends.base import (
    AbstractMessageDispatcher,
    CodeDispatcher,
    CodeMessage,
    DispatchError,
    DispatchFailure,
    DispatchResult,
)
from trench_mfa.backends.provider import as_dispatch_result
from trench_mfa.conf import mfa_settings
from trench_mfa.dispatch import queue
from trench_mfa.exceptions import DispatchFailed, InvalidInput, Throttled
from trench_mfa.flows import identifiers
from trench_mfa.models import CodePurpose
from trench_mfa.state import audit, send_limits
from trench_mfa.state.confirmations import require_confirmed

logger = logging.getLogger("trench_mfa.dispatch")

#: Activation codes go only to a confirmed identifier (``IDENTIFIERS``): the
#: activation binds the method to the address or number it captured from the
#: profile, and a value nobody confirmed proves nothing. Every other code of
#: a method goes to the destination that activation bound, which its code
#: proved, so a later, unconfirmed change of the profile neither receives
#: nor holds back login and protected-action codes.
_CONFIRMED_TARGET_PURPOSES = (CodePurpose.ACTIVATION,)


def _require_confirmed_target(handler: AbstractMessageDispatcher) -> None:
    config = mfa_settings.method(handler.mfa_method.name)
    if config is None or not config.source_field or config.source_field not in identifiers():
        return  # not a verified identifier (IDENTIFIERS): nothing to check
    require_confirmed(handler.mfa_method.user, config.source_field)


@sensitive_variables()
def send_code(handler: CodeDispatcher) -> DispatchResult:
    """Create a code, send it through ``handler``, and withdraw it again if sending fails.

    Inside ``RESEND_COOLDOWN`` of the last usable code of this method and
    purpose nothing is sent (429 with ``retry_after``), except that a new
    login challenge takes over the live login code and answers as usual.
    """
    method = handler.mfa_method
    recipient = handler.get_recipient()
    if recipient is None:
        return DispatchResult.failed(DispatchFailure.INVALID_RECIPIENT)
    # One short transaction: the method row lock taken by the cooldown check
    # is held until the new code exists, so parallel requests see it and
    # stop; the slow provider call happens after the commit.
    with transaction.atomic():
        gate = send_limits.check_cooldown(method, handler.purpose, handler.challenge_id)
        if gate.rebound:
            logger.info("Kept the live login code for a new challenge (method %r)", method.name)
            return DispatchResult.sent(str(handler.success_message))
        if gate.retry_after:
            return DispatchResult.failed(DispatchFailure.THROTTLED, retry_after=gate.retry_after)
        quota = send_limits.reserve_recipient(
            handler.channel, handler.cap_identity(recipient), handler.recipient_limit()
        )
        if quota.retry_after:
            return DispatchResult.failed(DispatchFailure.THROTTLED, retry_after=quota.retry_after)
        code = handler.create_code()
    message = CodeMessage(code=code, valid_for=handler.validity_period, purpose=handler.purpose)
    if mfa_settings.DISPATCH == "celery":
        return queue.send_later(handler, recipient, message, quota)
    try:
        handler.send(recipient, message)
    except (DispatchError, OSError) as exc:
        handler.discard_code()
        send_limits.release_recipient(quota)
        # A DispatchError's text is written for logs (status codes, never the
        # code or a credential); other exceptions show only their class.
        logger.warning(
            "Sending an MFA code (purpose %s, method %r) failed: %s",
            handler.purpose,
            method.name,
            exc if isinstance(exc, DispatchError) else type(exc).__name__,
        )
        return DispatchResult.failed()
    logger.info("Sent an MFA code (purpose %s, method %r)", handler.purpose, method.name)
    return DispatchResult.sent(str(handler.success_message))


@sensitive_variables()
def deliver(handler: AbstractMessageDispatcher) -> DispatchResult:
    """Dispatch; raise 503, 429 or 400 errors instead of returning a failure."""
    if handler.sends_codes and handler.purpose in _CONFIRMED_TARGET_PURPOSES:
        _require_confirmed_target(handler)
    if isinstance(handler, CodeDispatcher):
        result = send_code(handler)
    else:
        result = as_dispatch_result(handler.dispatch_message())
    method = handler.mfa_method
    if result.ok:
        # Authenticator apps and YubiKeys get instructions, not a code.
        if handler.sends_codes:
            audit.send(
                signals.code_sent,
                __name__,
                user=method.user,
                method=method.name,
                request=getattr(handler, "request", None),
                purpose=str(handler.purpose),
            )
        return result
    if result.reason is DispatchFailure.THROTTLED:
        raise Throttled(result.retry_after or 1)
    if result.reason is DispatchFailure.INVALID_RECIPIENT:
        raise InvalidInput(_("This account has no valid address for this method."))
    # A ported django-trench dispatcher may have created a code before its
    # provider refused the message; nothing usable may outlive a failed send.
    handler.discard_code()
    raise DispatchFailed()

"""Run a dispatcher and turn a failed dispatch into the matching error."""

from __future__ import annotations

from django.utils.translation import gettext as _

from trench_mfa import signals
from trench_mfa.backends.base import AbstractMessageDispatcher, DispatchFailure, DispatchResult
from trench_mfa.backends.provider import as_dispatch_result
from trench_mfa.exceptions import DispatchFailed, InvalidInput, Throttled


def deliver(handler: AbstractMessageDispatcher) -> DispatchResult:
    """Dispatch; raise 503, 429 or 400 errors instead of returning a failure."""
    result = as_dispatch_result(handler.dispatch_message())
    method = handler.mfa_method
    if result.ok:
        signals.code_sent.send(
            sender=__name__, user=method.user, method=method.name, purpose=handler.purpose
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

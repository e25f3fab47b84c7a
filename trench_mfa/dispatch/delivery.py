"""Run a dispatcher and turn a failed dispatch into the matching error."""

from __future__ import annotations

from django.utils.translation import gettext as _

from trench_mfa import signals
from trench_mfa.backends.base import AbstractMessageDispatcher, DispatchFailure, DispatchResult
from trench_mfa.backends.provider import as_dispatch_result
from trench_mfa.conf import mfa_settings
from trench_mfa.exceptions import DispatchFailed, InvalidInput, Throttled
from trench_mfa.flows import identifiers
from trench_mfa.models import CodePurpose
from trench_mfa.state import audit

#: Codes that bind a new method or confirm a sensitive change go only to a
#: confirmed identifier (``IDENTIFIERS``): an address nobody confirmed proves
#: nothing. Login codes are not held back, so a user who changed the address
#: is not locked out before confirming it.
_CONFIRMED_TARGET_PURPOSES = (CodePurpose.ACTIVATION, CodePurpose.ACTION)


def _require_confirmed_target(handler: AbstractMessageDispatcher) -> None:
    config = mfa_settings.method(handler.mfa_method.name)
    if config is None or not config.source_field or config.source_field not in identifiers():
        return  # not a verified identifier (IDENTIFIERS): nothing to check
    # Imported here: the identifier service delivers its own codes through
    # this module.
    from trench_mfa.services import identifiers as verification

    verification.require_confirmed(handler.mfa_method.user, config.source_field)


def deliver(handler: AbstractMessageDispatcher) -> DispatchResult:
    """Dispatch; raise 503, 429 or 400 errors instead of returning a failure."""
    if handler.sends_codes and handler.purpose in _CONFIRMED_TARGET_PURPOSES:
        _require_confirmed_target(handler)
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

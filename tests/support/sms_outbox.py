"""An in-memory SMS method for the flow tests (cooldown, caps, numbers, text).

It goes through the whole SMS base (validation, limits, rendering) and only
replaces the provider call: each send appends ``(number, text)`` to
:data:`sent`. ``fail_next`` makes the next sends fail like a provider outage.
"""

from __future__ import annotations

import threading

from trench_mfa.backends.base import DispatchError
from trench_mfa.backends.sms import SMSMessageDispatcher

sent: list[tuple[str, str]] = []
fail_next = 0
_lock = threading.Lock()


class OutboxSMSDispatcher(SMSMessageDispatcher):
    """Records messages instead of sending them."""

    def send_sms(self, recipient: str, body: str) -> None:
        """Append to :data:`sent`, or fail while ``fail_next`` is positive."""
        global fail_next
        with _lock:
            if fail_next > 0:
                fail_next -= 1
                raise DispatchError("outbox: simulated outage")
            sent.append((recipient, body))


#: ``MFA_METHODS`` entry for the outbox method.
OUTBOX = {
    "HANDLER": "tests.support.sms_outbox.OutboxSMSDispatcher",
    "SOURCE_FIELD": "phone_number",
}

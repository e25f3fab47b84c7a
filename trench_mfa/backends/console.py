"""A development SMS method: writes to the log instead of sending.

It goes through the whole SMS path (number validation, cooldown, per-number
cap), then logs that a message was sent to a masked number. The text with
the code is logged only when the method's settings say ``DEBUG: True``, as
in the demo project; never enable that in production.
"""

from __future__ import annotations

import logging

from trench_mfa.backends.sms import SMSMessageDispatcher

logger = logging.getLogger("trench_mfa.console")


def mask_number(number: str) -> str:
    """``+48600100200`` as ``+48******200``: enough to tell numbers apart in logs."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 6) + number[-3:]


class ConsoleMessageDispatcher(SMSMessageDispatcher):
    """Logs the SMS (the code only with ``DEBUG: True``)."""

    def send_sms(self, recipient: str, body: str) -> None:
        """Write one log record; the body only when ``DEBUG`` is on."""
        if self.option("DEBUG", False) is True:
            logger.warning(
                "SMS to %s (console dispatcher, DEBUG): %s", mask_number(recipient), body
            )
        else:
            logger.info(
                "SMS to %s (console dispatcher; set DEBUG to show it)", mask_number(recipient)
            )

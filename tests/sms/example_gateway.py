"""The custom dispatcher of ``docs/custom-dispatcher.rst``, tested for real.

A made-up HTTP gateway: ``POST <ENDPOINT_URL>/v1/messages`` with a bearer
token and a JSON body ``{"to", "text"}``, answering 202. It only implements
``send_sms``; the SMS base supplies number checks, limits, the text and the
error handling.
"""

from __future__ import annotations

import requests

from trench_mfa.backends.base import DispatchError
from trench_mfa.backends.sms import SMSMessageDispatcher


class ExampleGatewayDispatcher(SMSMessageDispatcher):
    """Sends the code through the example gateway."""

    # Records of these loggers are dropped during the call (request lines).
    library_loggers = ("urllib3",)

    def send_sms(self, recipient: str, body: str) -> None:
        """One POST; anything but 202 is a failed send."""
        response = requests.post(
            f"{self.require('ENDPOINT_URL').rstrip('/')}/v1/messages",
            json={"to": recipient, "text": body},
            headers={"Authorization": f"Bearer {self.require('GATEWAY_TOKEN')}"},
            timeout=self.timeout,
        )
        if response.status_code != 202:
            raise DispatchError(f"gateway answered HTTP {response.status_code}")

"""SMS through the Vonage (Nexmo) SMS API with the official ``vonage`` SDK.

Settings: ``VONAGE_API_KEY``, ``VONAGE_API_SECRET`` and ``VONAGE_FROM_NUMBER``
(a number of the account, digits only, or an alphanumeric sender id).
``ENDPOINT_URL`` replaces ``https://rest.nexmo.com``; the SDK only speaks
HTTPS, so it must be an ``https://host[:port]`` URL without a path.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from vonage import Auth, HttpClientOptions, Vonage
from vonage_http_client.errors import HttpRequestError
from vonage_sms import SmsMessage
from vonage_sms.errors import SmsError

from trench_mfa.backends.base import DispatchError
from trench_mfa.backends.sms import SMSMessageDispatcher


class VonageMessageDispatcher(SMSMessageDispatcher):
    """Sends the code with ``client.sms.send(SmsMessage(...))``."""

    library_loggers = ("vonage", "vonage_http_client", "vonage_sms")

    def rest_host(self) -> str | None:
        """The host (and port) of ``ENDPOINT_URL``, or ``None`` for Vonage's own."""
        endpoint = self.endpoint_url
        if endpoint is None:
            return None
        parts = urlsplit(endpoint)
        if parts.scheme != "https" or not parts.netloc or parts.path.strip("/"):
            raise DispatchError("ENDPOINT_URL of a Vonage method must be https://host[:port]")
        return parts.netloc

    def get_client(self) -> Vonage:
        """A Vonage client with this method's credentials, timeout and host."""
        options: dict[str, object] = {
            # The SDK takes whole seconds; rounding up never shortens the wait
            # below TIMEOUT, and MAX_TIMEOUT is already a whole number.
            "timeout": math.ceil(self.timeout),
            # Failover between providers is the retry.
            "max_retries": 0,
        }
        host = self.rest_host()
        if host:
            options["rest_host"] = host
        auth = Auth(
            api_key=self.require("VONAGE_API_KEY"), api_secret=self.require("VONAGE_API_SECRET")
        )
        return Vonage(auth, HttpClientOptions(**options))

    def send_sms(self, recipient: str, body: str) -> None:
        """POST ``/sms/json`` with ``from``, ``to`` and ``text``."""
        message = SmsMessage(
            # Vonage documents numbers without the leading "+".
            to=recipient.lstrip("+"),
            from_=self.require("VONAGE_FROM_NUMBER"),
            text=body,
        )
        client = self.get_client()
        try:
            client.sms.send(message)
        except HttpRequestError as exc:
            status = getattr(exc.response, "status_code", None)
            raise DispatchError(f"Vonage answered HTTP {status}") from exc
        except SmsError as exc:
            # The SDK raises this for a non-zero message status in a 200 answer.
            raise DispatchError("Vonage refused the message") from exc

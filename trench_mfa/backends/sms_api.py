"""SMS through SMSAPI (smsapi.pl / smsapi.com) with the official ``smsapi-client``.

Settings: ``SMSAPI_ACCESS_TOKEN`` (an OAuth token of the account) and
``SMSAPI_FROM_NUMBER`` (a registered sender name or number; optional).
``ENDPOINT_URL`` replaces ``https://api.smsapi.pl/``, e.g.
``https://api.smsapi.com/`` for the international service.
"""

from __future__ import annotations

from smsapi.client import Client
from smsapi.exception import SmsApiException

from trench_mfa.backends.base import DispatchError
from trench_mfa.backends.sms import SMSMessageDispatcher

#: The base URL of ``SmsApiPlClient``, as django-trench uses it.
DEFAULT_ENDPOINT = "https://api.smsapi.pl/"


class SMSAPIMessageDispatcher(SMSMessageDispatcher):
    """Sends the code with ``client.sms.send``."""

    library_loggers = ("smsapi",)

    def get_client(self) -> Client:
        """An SMSAPI client for this method's token and endpoint."""
        domain = self.endpoint_url or DEFAULT_ENDPOINT
        # The library appends the path ("sms.do") to the domain as is.
        domain = domain if domain.endswith("/") else f"{domain}/"
        return Client(domain=domain, access_token=self.require("SMSAPI_ACCESS_TOKEN"))

    def send_sms(self, recipient: str, body: str) -> None:
        """POST ``sms.do`` with ``to``, ``message`` and ``from``."""
        client = self.get_client()
        # SMSAPI documents numbers as digits with the country code.
        params = {"to": recipient.lstrip("+"), "message": body, "timeout": self.timeout}
        sender = self.option("SMSAPI_FROM_NUMBER")
        if sender:
            # Only when set: the library would send the text "None" otherwise.
            params["from_"] = str(sender)
        try:
            client.sms.send(**params)
        except SmsApiException as exc:
            raise DispatchError(f"SMSAPI refused the message (error {exc.code})") from exc

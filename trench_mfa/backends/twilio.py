"""SMS through Twilio's Messages API with the official ``twilio`` client.

Settings: ``TWILIO_VERIFIED_FROM_NUMBER`` (a number of the account) or
``TWILIO_MESSAGING_SERVICE_SID``; credentials ``TWILIO_ACCOUNT_SID`` and
``TWILIO_AUTH_TOKEN`` from the method's settings or, as in django-trench,
from the environment variables of the same names. ``ENDPOINT_URL`` replaces
``https://api.twilio.com`` (a proxy, a regional edge, a local stub).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from trench_mfa.backends.base import DispatchError
from trench_mfa.backends.sms import SMSMessageDispatcher


class RebasedTwilioHttpClient(TwilioHttpClient):
    """Sends every request to ``base_url`` instead of Twilio's own hosts.

    The client builds absolute ``https://<product>.twilio.com/...`` URLs;
    swapping the scheme and host at the HTTP layer keeps the path, the form
    encoding and the authentication exactly as the library makes them.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        parts = urlsplit(base_url)
        self._scheme, self._netloc = parts.scheme, parts.netloc
        self._prefix = parts.path.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Rewrite the URL, then send as usual."""
        parts = urlsplit(url)
        url = urlunsplit(
            (self._scheme, self._netloc, self._prefix + parts.path, parts.query, parts.fragment)
        )
        return super().request(method, url, *args, **kwargs)


class TwilioMessageDispatcher(SMSMessageDispatcher):
    """Sends the code with ``client.messages.create``."""

    library_loggers = ("twilio",)

    def credential(self, key: str) -> str:
        """``key`` from the method's settings, else from the environment."""
        value = self.option(key) or os.environ.get(key)
        if not value:
            raise DispatchError(f"{key} is not configured (settings or environment)")
        return str(value)

    def get_client(self) -> Client:
        """A Twilio client with this method's credentials, timeout and endpoint."""
        options: dict[str, Any] = {"timeout": self.timeout}
        endpoint = self.endpoint_url
        http_client = (
            RebasedTwilioHttpClient(endpoint, **options)
            if endpoint
            else TwilioHttpClient(**options)
        )
        return Client(
            self.credential("TWILIO_ACCOUNT_SID"),
            self.credential("TWILIO_AUTH_TOKEN"),
            http_client=http_client,
        )

    def send_sms(self, recipient: str, body: str) -> None:
        """POST ``/2010-04-01/Accounts/<sid>/Messages.json``."""
        sender: dict[str, str] = {}
        service = self.option("TWILIO_MESSAGING_SERVICE_SID")
        if service:
            sender["messaging_service_sid"] = str(service)
        else:
            sender["from_"] = self.require("TWILIO_VERIFIED_FROM_NUMBER")
        client = self.get_client()
        try:
            client.messages.create(to=recipient, body=body, **sender)
        except TwilioException as exc:
            status = getattr(exc, "status", None)
            code = getattr(exc, "code", None)
            raise DispatchError(f"Twilio answered HTTP {status} (error {code})") from exc
        finally:
            # One client per send: release its connection pool right away.
            session = getattr(client.http_client, "session", None)
            if session is not None:
                session.close()

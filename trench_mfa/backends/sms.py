"""SMS methods: the shared base of every provider, and provider failover.

A provider dispatcher implements only :meth:`SMSMessageDispatcher.send_sms`.
The base does the rest, before any provider call: it takes the number the
method was activated with (captured from ``SOURCE_FIELD``, default
``phone_number``, when activation started; see
:mod:`trench_mfa.state.destinations`), normalised to E.164 with
``phonenumbers`` (invalid or missing: 400 and no request), renders
``SMS_BODY``, and applies the resend cooldown and the per-number cap
(``SMS_MAX_PER_NUMBER``). Provider errors of any kind become a
:class:`~trench_mfa.backends.base.DispatchError`, so the code is voided and the
client gets a generic 503.

Options every provider reads: ``SMS_BODY``, ``TIMEOUT`` (seconds, at most
10), ``ENDPOINT_URL`` (another base URL for the official client) and
``DEFAULT_REGION`` (for numbers stored without a country code).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any, ClassVar

import phonenumbers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from trench_mfa.backends.base import CodeDispatcher, CodeMessage, DispatchError
from trench_mfa.backends.sms_logging import silence_loggers
from trench_mfa.conf import mfa_settings

logger = logging.getLogger("trench_mfa.dispatch.sms")

#: Upper bound of ``TIMEOUT``: a slow provider must not hold a request longer.
MAX_TIMEOUT = 10.0


def normalise_phone_number(value: Any, region: str | None = None) -> str | None:
    """``value`` as an E.164 string (``+48600100200``), or ``None`` if invalid.

    Without ``region`` the number must carry its country code (``+``).
    """
    if value is None:
        return None
    text = str(getattr(value, "as_e164", value)).strip()
    if not text or len(text) > 64:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class SMSMessageDispatcher(CodeDispatcher):
    """Base of every SMS method; subclasses implement :meth:`send_sms`."""

    success_message = _("SMS message with MFA code has been sent.")
    channel = "sms"
    #: A one-time password, confirmed by a text message to a registered number.
    amr_values: ClassVar[tuple[str, ...]] = ("otp", "sms")
    #: The text when the method sets no ``SMS_BODY``; ``{code}``, ``{minutes}``
    #: and ``{seconds}`` are filled in.
    default_sms_body: ClassVar[Any] = _(
        "Your verification code is {code}. It expires in {minutes} minutes."
    )
    #: Loggers of the provider's client library. Their records are dropped
    #: while this dispatcher calls the library: some log request bodies (the
    #: code) or URLs with account ids at DEBUG level.
    library_loggers: ClassVar[tuple[str, ...]] = ()

    def option(self, key: str, default: Any = None) -> Any:
        """The method's setting ``key`` (``default`` when unset or empty)."""
        value = self._config.get(key)
        return default if value in (None, "") else value

    def require(self, key: str) -> str:
        """A setting the provider cannot work without; a gap fails the send."""
        value = self.option(key)
        if value is None:
            raise DispatchError(f"{key} is not configured for method {self._mfa_method.name!r}")
        return str(value)

    @property
    def timeout(self) -> float:
        """Seconds to wait for the provider (``TIMEOUT``, capped at 10)."""
        raw = self.option("TIMEOUT", MAX_TIMEOUT)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise DispatchError("TIMEOUT must be a number of seconds") from None
        if not 0 < value <= MAX_TIMEOUT:
            return MAX_TIMEOUT
        return value

    @property
    def endpoint_url(self) -> str | None:
        """``ENDPOINT_URL``: another base URL for the provider's client."""
        value = self.option("ENDPOINT_URL")
        return str(value) if value is not None else None

    @property
    def source_field(self) -> str | None:
        """``SOURCE_FIELD``, ``phone_number`` when unset."""
        return str(self.option("SOURCE_FIELD", "phone_number"))

    def clean_recipient(self, value: Any) -> str | None:
        """The number in E.164, or ``None`` when missing or invalid."""
        return normalise_phone_number(value, self.option("DEFAULT_REGION"))

    def recipient_limit(self) -> int | None:
        """``SMS_MAX_PER_NUMBER`` sends per number per hour."""
        limit = mfa_settings.SMS_MAX_PER_NUMBER
        return int(limit) if limit else None

    @sensitive_variables()
    def render_body(self, message: CodeMessage) -> str:
        """The SMS text: ``SMS_BODY`` with the code and its lifetime filled in."""
        template = str(self.option("SMS_BODY", self.default_sms_body))
        try:
            return template.format(
                code=message.code, minutes=message.valid_minutes, seconds=message.valid_for
            )
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            raise DispatchError(f"SMS_BODY is not a valid template ({type(exc).__name__})") from exc

    @sensitive_variables()
    def send(self, recipient: str, message: CodeMessage) -> None:
        """Render the text and hand it to :meth:`transmit`."""
        self.transmit(recipient, self.render_body(message))

    @sensitive_variables()
    def transmit(self, recipient: str, body: str) -> None:
        """Call :meth:`send_sms` with the library's logs silenced.

        Whatever the client library raises (HTTP errors, timeouts, refused
        connections, unexpected response shapes) means "not confirmed as
        sent", so every exception becomes a :class:`DispatchError` that names
        only its class: library messages may quote URLs, numbers or bodies.
        """
        with silence_loggers(self.library_loggers):
            try:
                self.send_sms(recipient, body)
            except DispatchError:
                raise
            except Exception as exc:
                raise DispatchError(f"{type(self).__name__}: {type(exc).__name__}") from exc

    @abstractmethod
    def send_sms(self, recipient: str, body: str) -> None:
        """Send ``body`` to the E.164 number ``recipient``; raise on failure."""


class FailoverSMSDispatcher(SMSMessageDispatcher):
    """Tries the SMS methods named in ``PROVIDERS`` in order, with one code.

    ``PROVIDERS`` lists other configured methods (keys of ``MFA_METHODS``),
    e.g. ``["sms_twilio", "sms_aws"]``. Each sends with its own settings
    (credentials, sender, endpoint, timeout); the text is this method's
    ``SMS_BODY``. A failed send moves on to the next provider; when all fail
    the dispatch fails (503) and the code is voided.
    """

    def providers(self) -> list[tuple[str, SMSMessageDispatcher]]:
        """``(name, dispatcher)`` for each method in ``PROVIDERS``, in order."""
        names = self.option("PROVIDERS", ())
        if isinstance(names, str) or not names:
            raise DispatchError(f"PROVIDERS of method {self._mfa_method.name!r} must be a list")
        result = []
        for name in names:
            config = mfa_settings.method(name)
            handler = config.handler if config is not None else None
            if (
                config is None
                or handler is None
                or not issubclass(handler, SMSMessageDispatcher)
                or issubclass(handler, FailoverSMSDispatcher)
            ):
                raise DispatchError(f"PROVIDERS entry {name!r} is not a configured SMS method")
            provider = handler(self._mfa_method, config)
            provider.purpose, provider.challenge_id = self.purpose, self.challenge_id
            result.append((name, provider))
        return result

    def send_sms(self, recipient: str, body: str) -> None:
        """Send through the first provider that accepts the message."""
        for name, provider in self.providers():
            try:
                provider.transmit(recipient, body)
            except DispatchError as exc:
                logger.warning("SMS provider %r failed (%s); trying the next one", name, exc)
                continue
            logger.info("SMS sent through provider %r", name)
            return
        raise DispatchError("every SMS provider failed")

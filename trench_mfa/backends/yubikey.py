"""YubiKey method: Yubico OTPs checked by YubiCloud or any protocol 2.0 server.

Method options (defaults in ``trench_mfa.conf.KNOWN_METHODS["yubi"]``):
``YUBICLOUD_CLIENT_ID``; ``YUBICLOUD_SECRET_KEY`` (the base64 API key: when
set, requests are signed and every answer's signature is verified);
``YUBICLOUD_API_URLS`` (one URL or a list); ``YUBICLOUD_TIMEOUT`` (seconds,
1 to 10).

An OTP is checked for format before any network call (modhex, 32 to 64
characters, lower-cased). Activation binds the key's public id (all but the
last 32 characters), stored encrypted; later OTPs must carry the same id. An
answer passes only with a valid signature (when a key is set), the ``otp`` and
``nonce`` that were sent, and status ``OK``. Network errors, timeouts,
``BACKEND_ERROR``, ``NOT_ENOUGH_ANSWERS`` and answers that mean the server
configuration is wrong raise :class:`~trench_mfa.exceptions.DispatchFailed`
(503) and never count as the user's failure.
"""

from __future__ import annotations

import logging
import re
from typing import ClassVar

from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from yubico_client import Yubico

from trench_mfa.backends.base import AbstractMessageDispatcher, DispatchResult
from trench_mfa.backends.yubico_protocol import (
    Verdict,
    check_response,
    install_log_redaction,
    is_genuine_rejection,
)
from trench_mfa.exceptions import DispatchFailed
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.state.crypto import constant_time_equals
from trench_mfa.state.secrets_at_rest import decrypt_secret, encrypt_secret

logger = logging.getLogger("trench_mfa.yubikey")

MODHEX = "cbdefghijklnrtuv"
_OTP_RE = re.compile(rf"[{MODHEX}]{{32,64}}")
#: Length of the encrypted part of a Yubico OTP; the rest is the public id.
_TOKEN_LENGTH = 32
MAX_TIMEOUT = 10

install_log_redaction()


def normalise_otp(otp: str) -> str:
    """The OTP in lower case, as modhex is defined."""
    return otp.lower()


def public_id(otp: str) -> str:
    """The key's public id: everything but the last 32 characters."""
    return otp[:-_TOKEN_LENGTH]


class _CheckedClient(Yubico):
    """yubico-client with the stricter answer checks of :func:`check_response`.

    yubico-client compares ``otp`` and ``nonce`` only when the answer carries
    them, compares signatures with ``!=`` and cannot tell a rejected OTP from
    a server error; every answer's verdict is recorded here instead.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.verdicts: list[Verdict] = []
        #: Whether some answer was a signed "no" about this OTP (only that counts as a failure).
        self.genuine_rejection = False

    def verify_response(
        self, response: str, otp: str, nonce: str, return_response: bool = False
    ) -> bool:
        verdict = check_response(response, otp=otp, nonce=nonce, key=self.key)
        self.verdicts.append(verdict)
        if verdict is Verdict.REJECTED and is_genuine_rejection(
            response, otp=otp, nonce=nonce, key=self.key
        ):
            self.genuine_rejection = True
        return verdict is Verdict.OK


class YubiKeyMessageDispatcher(AbstractMessageDispatcher):
    """Checks OTPs typed by a YubiKey; nothing is ever sent."""

    sends_codes: ClassVar[bool] = False
    #: A one-time password that only the hardware key can produce.
    amr_values: ClassVar[tuple[str, ...]] = ("hwk", "otp")
    #: The OTP that :meth:`validate_confirmation_code` accepted (bound on confirm).
    _confirmed_otp: str | None = None
    #: Whether the last failed check was a genuine rejection (see :meth:`failure_counts`).
    _genuine_failure: bool = True

    activation_instructions = _(
        "Touch your YubiKey to enter a one-time password and send it to confirm."
    )
    instructions = _("Touch your YubiKey to enter a one-time password.")
    unavailable_message = _("The YubiKey code could not be checked right now. Please try again.")

    def is_well_formed(self, code: str) -> bool:
        """Modhex, 32 to 64 characters (case-insensitive)."""
        return _OTP_RE.fullmatch(normalise_otp(code)) is not None

    def dispatch_message(self) -> DispatchResult:
        """Instructions only: the key itself makes the OTP."""
        if self.purpose == CodePurpose.ACTIVATION:
            return DispatchResult.sent(str(self.activation_instructions))
        return DispatchResult.sent(str(self.instructions))

    def prepare_activation(self) -> None:
        """Forget a previously bound key: confirmation binds the new one."""
        self._mfa_method.secret = ""
        MFAMethod.objects.filter(pk=self._mfa_method.pk).update(secret="")

    def discard_code(self) -> None:
        """Nothing is stored per code."""

    def create_code(self) -> str:
        """A YubiKey OTP is made by the key, never by the server."""
        raise NotImplementedError("YubiKey OTPs are generated by the key.")

    def _client(self) -> _CheckedClient:
        urls = self._config.get("YUBICLOUD_API_URLS")
        return _CheckedClient(
            str(self._config.get("YUBICLOUD_CLIENT_ID") or ""),
            key=self._config.get("YUBICLOUD_SECRET_KEY") or None,
            translate_otp=False,
            api_urls=[urls] if isinstance(urls, str) else list(urls or ()),
            # One try per server: the total time stays within the timeout.
            max_retries=1,
        )

    @property
    def timeout(self) -> int:
        """Seconds to wait for the validation servers (1 to 10)."""
        return max(1, min(int(self._config.get("YUBICLOUD_TIMEOUT") or MAX_TIMEOUT), MAX_TIMEOUT))

    @sensitive_variables()
    def verify_with_server(self, otp: str) -> bool:
        """``True`` for a genuine OK, ``False`` for a rejection; 503 otherwise."""
        if not self._config.get("YUBICLOUD_CLIENT_ID"):
            logger.error("YubiKey method %r has no YUBICLOUD_CLIENT_ID.", self._mfa_method.name)
            raise DispatchFailed(self.unavailable_message)
        client = self._client()
        try:
            if client.verify(otp, timeout=self.timeout):
                return True
        except Exception as exc:
            # yubico-client signals "no usable answer" with a bare Exception
            # (and re-raises SSL errors); the verdicts say what really happened.
            error = type(exc).__name__
        else:  # pragma: no cover - verify() returns True or raises
            error = "no answer"
        if Verdict.REJECTED in client.verdicts:
            # A wrong code for the client either way; but only a signed "no"
            # about this OTP counts toward the user's lockout.
            self._genuine_failure = client.genuine_rejection
            return False
        if Verdict.MISCONFIGURED in client.verdicts:
            logger.error(
                "The YubiKey validation server refused this client: check "
                "YUBICLOUD_CLIENT_ID, YUBICLOUD_SECRET_KEY and YUBICLOUD_API_URLS."
            )
        else:
            logger.warning("No usable answer from the YubiKey validation servers (%s).", error)
        raise DispatchFailed(self.unavailable_message)

    def failure_counts(self) -> bool:
        """``False`` when the last "no" came from an answer that cannot be trusted."""
        return self._genuine_failure

    def _stored_public_id(self) -> str | None:
        secret = self._mfa_method.secret
        return decrypt_secret(secret) if secret else None

    @sensitive_variables()
    def validate_code(self, code: str) -> bool:
        """An OTP of the bound key, accepted by the validation server."""
        otp = normalise_otp(code)
        self._genuine_failure = True
        bound = self._stored_public_id()
        if not bound or not self.is_well_formed(otp):
            return False
        if not constant_time_equals(public_id(otp), bound):
            return False
        return self.verify_with_server(otp)

    @sensitive_variables()
    def validate_confirmation_code(self, code: str) -> bool:
        """An OTP of any key (with a public id), accepted by the server."""
        otp = normalise_otp(code)
        self._genuine_failure = True
        if not self.is_well_formed(otp) or not public_id(otp):
            return False
        if not self.verify_with_server(otp):
            return False
        self._confirmed_otp = otp
        return True

    @sensitive_variables()
    def confirm_activation(self, code: str) -> None:
        """Bind the key whose OTP confirmed the activation (stored encrypted)."""
        otp = normalise_otp(code)
        if self._confirmed_otp is None or self._confirmed_otp != otp:
            raise ValueError("confirm_activation() needs the OTP that was just validated.")
        self._mfa_method.secret = encrypt_secret(public_id(otp))
        MFAMethod.objects.filter(pk=self._mfa_method.pk).update(secret=self._mfa_method.secret)

"""Authenticator app method: TOTP (RFC 6238) with an otpauth URI and a QR code.

The seed is made in :meth:`ApplicationMessageDispatcher.prepare_activation`
(at least 20 random bytes, one per activation), stored encrypted in
``MFAMethod.secret`` and shown only in the activation answer. Verification
accepts the steps T-``VALID_WINDOW`` .. T+``VALID_WINDOW`` of the server
clock, and each step at most once per method: the last accepted step is
stored on the method row by a conditional ``UPDATE``, so a replayed code, or
an older code after a newer one, fails even under concurrent requests.

Method options (defaults in ``trench_mfa.conf.KNOWN_METHODS["app"]``):
``VALIDITY_PERIOD`` (the TOTP step, 30), ``DIGITS`` (6 or 8), ``ALGORITHM``
(SHA1, SHA256, SHA512), ``VALID_WINDOW`` (1 or 0) and ``QR_CODE_FORMAT``
("svg" or "png").
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import pyotp
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from trench_mfa.backends.base import AbstractMessageDispatcher, CodeCheck, DispatchResult
from trench_mfa.backends.qr import qr_code_data_uri
from trench_mfa.conf import mfa_settings
from trench_mfa.models import CodePurpose, MFAMethod
from trench_mfa.state.backoff import StagedUpdate
from trench_mfa.state.crypto import constant_time_equals
from trench_mfa.state.secrets_at_rest import decrypt_secret, encrypt_secret

#: Hash functions an authenticator app may be asked to use (RFC 6238 §1.2).
ALGORITHMS: dict[str, Any] = {
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
}
ALLOWED_DIGITS = (6, 8)
#: RFC 6238 §5.2 allows at most one step of delay either way.
MAX_VALID_WINDOW = 1


@sensitive_variables()
def new_secret(algorithm: str = "SHA1", min_length: int = 32) -> str:
    """A random base32 seed without padding.

    It has as many bytes as the HMAC output (20 for SHA1, RFC 6238 §5.1) and
    at least ``min_length`` base32 characters (``SECRET_KEY_LENGTH``).
    """
    digest_size: int = ALGORITHMS[algorithm]().digest_size
    n_bytes = max(digest_size, -(-min_length * 5 // 8))
    return base64.b32encode(secrets.token_bytes(n_bytes)).decode("ascii").rstrip("=")


@sensitive_variables()
def provisioning_uri(
    secret: str, *, issuer: str, account: str, algorithm: str, digits: int, period: int
) -> str:
    """The ``otpauth://totp/...`` URI, with every parameter always written.

    Issuer and account are percent-encoded the same way in the label and in
    the ``issuer`` parameter; a ":" inside either becomes ``%3A``, so the
    literal ":" between them is the only separator an app sees.
    """
    label = f"{quote(issuer, safe='')}:{quote(account, safe='@')}"
    query = urlencode(
        {
            "secret": secret.rstrip("="),
            "issuer": issuer,
            "algorithm": algorithm,
            "digits": digits,
            "period": period,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


class ApplicationMessageDispatcher(AbstractMessageDispatcher):
    """TOTP codes from an authenticator app; nothing is ever sent."""

    default_validity_period: ClassVar[int | None] = 30
    sends_codes: ClassVar[bool] = False

    #: The answer to every dispatch except activation (no secret, no URI).
    instructions = _("Enter the current code from your authenticator app.")

    @property
    def digits(self) -> int:
        """Code length (6 or 8)."""
        return int(self._config.get("DIGITS", 6))

    @property
    def algorithm(self) -> str:
        """HMAC hash name: SHA1, SHA256 or SHA512."""
        return str(self._config.get("ALGORITHM", "SHA1")).upper()

    @property
    def valid_window(self) -> int:
        """Steps accepted either side of the current one (capped at 1)."""
        return max(0, min(int(self._config.get("VALID_WINDOW", 1)), MAX_VALID_WINDOW))

    def is_well_formed(self, code: str) -> bool:
        """Exactly ``DIGITS`` ASCII digits."""
        return re.fullmatch(rf"[0-9]{{{self.digits}}}", code, flags=re.ASCII) is not None

    @sensitive_variables()
    def _totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(
            decrypt_secret(self._mfa_method.secret),
            digits=self.digits,
            digest=ALGORITHMS[self.algorithm],
            interval=self.validity_period,
        )

    def current_step(self) -> int:
        """T = floor(unix time / step) from the server clock (T0 = 0)."""
        return int(time.time()) // self.validity_period

    @sensitive_variables()
    def prepare_activation(self) -> None:
        """Store a new encrypted seed; the previous one (if any) stops working."""
        secret = new_secret(self.algorithm, int(mfa_settings.SECRET_KEY_LENGTH))
        self._mfa_method.secret = encrypt_secret(secret)
        self._mfa_method.last_used_step = None
        MFAMethod.objects.filter(pk=self._mfa_method.pk).update(
            secret=self._mfa_method.secret, last_used_step=None
        )

    def get_account_name(self) -> str:
        """The account shown in the app: the user's ``USERNAME_FIELD`` value."""
        # Only a user's row is ever activated (a phantom row has no user).
        user: Any = self._mfa_method.user
        return str(user.get_username())

    @sensitive_variables()
    def get_provisioning_uri(self) -> str:
        """The otpauth URI of the stored seed (activation only)."""
        return provisioning_uri(
            decrypt_secret(self._mfa_method.secret),
            issuer=str(mfa_settings.APPLICATION_ISSUER_NAME),
            account=self.get_account_name(),
            algorithm=self.algorithm,
            digits=self.digits,
            period=self.validity_period,
        )

    @sensitive_variables()
    def dispatch_message(self) -> DispatchResult:
        """The URI and QR code while activating; a generic text otherwise."""
        if self.purpose != CodePurpose.ACTIVATION or self._mfa_method.is_active:
            return DispatchResult.sent(str(self.instructions))
        if not self._mfa_method.secret:
            self.prepare_activation()
        uri = self.get_provisioning_uri()
        fmt = str(self._config.get("QR_CODE_FORMAT", "svg")).lower()
        return DispatchResult.sent(uri, qr_code=qr_code_data_uri(uri, fmt))

    @sensitive_variables()
    def create_code(self) -> str:
        """The code an app shows right now (for tools and tests; never sent)."""
        return str(self._totp().at(time.time()))

    def discard_code(self) -> None:
        """Nothing is stored per code."""

    @sensitive_variables()
    def matching_step(self, code: str) -> int | None:
        """The newest step inside the window whose code equals ``code``."""
        totp = self._totp()
        now = self.current_step()
        matched = None
        # Every candidate is compared (no early exit), in constant time each.
        for step in range(now - self.valid_window, now + self.valid_window + 1):
            if step >= 0 and constant_time_equals(totp.generate_otp(step), code):
                matched = step
        return matched

    @sensitive_variables()
    def _matching_newer(self, code: str) -> int | None:
        """The step ``code`` answers, when it is newer than the last one accepted.

        The replay guard, as far as the row read says: an older or equal step
        is a used code. The write that stores the step repeats the condition
        (:class:`~trench_mfa.state.backoff.StagedUpdate`), so of several
        concurrent requests only one stores it, whatever they read.
        """
        if not self._mfa_method.secret or not self.is_well_formed(code):
            return None
        step = self.matching_step(code)
        last = self._mfa_method.last_used_step
        if step is None or (last is not None and step <= last):
            return None
        return step

    @sensitive_variables()
    def check_code(self, code: str) -> CodeCheck:
        """A right code's step, for the check service to store with the counter reset."""
        step = self._matching_newer(code)
        if step is None:
            return CodeCheck(False)
        return CodeCheck(True, StagedUpdate({"last_used_step": step}, newer="last_used_step"))

    @sensitive_variables()
    def _verify(self, code: str) -> bool:
        step = self._matching_newer(code)
        if step is None:
            return False
        burned = (
            MFAMethod.objects.filter(pk=self._mfa_method.pk)
            .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
            .update(last_used_step=step)
        )
        if burned:
            self._mfa_method.last_used_step = step
        return burned == 1

    def validate_code(self, code: str) -> bool:
        """Check a login or protected-action code (each step once)."""
        return self._verify(code)

    def validate_confirmation_code(self, code: str) -> bool:
        """Check the first code from the app, which confirms the activation."""
        return self._verify(code)

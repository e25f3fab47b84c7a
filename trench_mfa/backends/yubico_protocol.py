"""Yubico validation protocol 2.0: checking an answer, and keeping OTPs out of logs.

The protocol is a signed ``GET``: the OTP travels in the query string, and
yubico-client (and urllib3 under it) log that URL. :func:`install_log_redaction`
replaces the OTP in those log records, so a not-yet-used OTP never lands in
a log file.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
import re
from urllib.parse import unquote

from django.views.decorators.debug import sensitive_variables

from trench_mfa.state.crypto import constant_time_equals

#: Statuses that say nothing about the OTP: the service could not decide.
UNAVAILABLE_STATUSES = frozenset({"BACKEND_ERROR", "NOT_ENOUGH_ANSWERS"})
#: Statuses caused by this server's configuration, not by the user's OTP.
MISCONFIGURED_STATUSES = frozenset(
    {"BAD_SIGNATURE", "NO_SUCH_CLIENT", "MISSING_PARAMETER", "OPERATION_NOT_ALLOWED"}
)


class Verdict(enum.Enum):
    """What one validation server's answer means for the OTP."""

    OK = "ok"
    REJECTED = "rejected"
    UNAVAILABLE = "unavailable"
    MISCONFIGURED = "misconfigured"


@sensitive_variables()
def sign(pairs: list[tuple[str, str]], key: bytes) -> str:
    """``h``: base64 HMAC-SHA1 over ``k=v`` pairs sorted by key, joined by ``&``."""
    message = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    return base64.b64encode(hmac.new(key, message.encode("utf-8"), hashlib.sha1).digest()).decode()


def parse_response(text: str) -> list[tuple[str, str]] | None:
    """The ``key=value`` lines of an answer; ``None`` when a key repeats."""
    pairs = [tuple(line.strip().split("=", 1)) for line in text.splitlines() if "=" in line]
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        # Two "status" lines (or two of anything) cannot be read unambiguously.
        return None
    return [(k, v) for k, v in pairs]


@sensitive_variables()
def check_response(text: str, *, otp: str, nonce: str, key: bytes | None) -> Verdict:
    """Judge one answer to a request that sent ``otp`` and ``nonce``.

    With ``key``, the signature is checked first (constant time) and an
    unsigned or forged answer is a rejection. ``OK`` counts only when the
    answer echoes the ``otp`` and ``nonce`` that were sent (the protocol's
    defence against cut-and-paste of another request's answer).
    """
    pairs = parse_response(text)
    if pairs is None:
        return Verdict.REJECTED
    params = dict(pairs)
    if key is not None:
        signature = params.get("h")
        expected = sign([(k, v) for k, v in pairs if k != "h"], key)
        if signature is None or not constant_time_equals(unquote(signature), expected):
            return Verdict.REJECTED
    status = params.get("status")
    if status in UNAVAILABLE_STATUSES:
        return Verdict.UNAVAILABLE
    if status in MISCONFIGURED_STATUSES:
        return Verdict.MISCONFIGURED
    if status != "OK":
        return Verdict.REJECTED
    if not (
        constant_time_equals(params.get("otp", ""), otp)
        and constant_time_equals(params.get("nonce", ""), nonce)
    ):
        return Verdict.REJECTED
    return Verdict.OK


#: The only statuses that mean "this OTP is not valid" (the user's fault, so they count).
GENUINE_REJECTIONS = frozenset({"BAD_OTP", "REPLAYED_OTP", "REPLAYED_REQUEST"})


@sensitive_variables()
def is_genuine_rejection(text: str, *, otp: str, nonce: str, key: bytes | None) -> bool:
    """Whether an answer is a trustworthy "no" about this very OTP.

    Signed (when a key is set), echoing the ``otp`` and ``nonce`` sent, and
    with a rejection status. Only such an answer may count toward the user's
    lockout: a forged, replayed or garbled answer must not lock anyone out.
    """
    pairs = parse_response(text)
    if pairs is None:
        return False
    params = dict(pairs)
    if key is not None:
        expected = sign([(k, v) for k, v in pairs if k != "h"], key)
        if not constant_time_equals(unquote(params.get("h", "")), expected):
            return False
    return (
        params.get("status") in GENUINE_REJECTIONS
        and constant_time_equals(params.get("otp", ""), otp)
        and constant_time_equals(params.get("nonce", ""), nonce)
    )


class _RedactOTP(logging.Filter):
    """Replaces ``otp=<value>`` in a record's message with ``otp=[redacted]``."""

    _pattern = re.compile(r"(\botp=)[^&\s'\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._pattern.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_REDACT = _RedactOTP()
#: Loggers that write the validation request URL or the answer.
REDACTED_LOGGERS = ("yubico.client", "urllib3.connectionpool")


def install_log_redaction() -> None:
    """Attach the redaction filter to the loggers that see the OTP (idempotent)."""
    for name in REDACTED_LOGGERS:
        logging.getLogger(name).addFilter(_REDACT)
